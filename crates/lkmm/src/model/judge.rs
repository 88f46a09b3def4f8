//! The model's axioms on one candidate: the relations that need both
//! reads-from and coherence order (fr, prop, hb, pb, rcu-order, rb and the
//! plain-access races) and the verdict. It must never enumerate.

use super::{flag, Judgement, RfPart, Skeleton};
use crate::rel::Rel;

impl Skeleton {
    /// Judge one candidate: the rf part plus `co` (transitive).
    pub fn check(&self, part: &RfPart, co: &Rel) -> Judgement {
        let n = self.n;
        let s = &self.s;
        let no = Judgement {
            consistent: false,
            flags: 0,
        };
        let rf = &part.rf;
        let fr = rf.inverse().seq(co);
        let overwrite = co.union(&fr);
        let ppo = part.ppo_base.union(&overwrite.inter(&self.int));
        // prop = [Marked];(overwrite & ext)?;cumul-fence*;[Marked];rfe?;[Marked],
        // with `;rfe?` as `| ;rfe` (rfe is sparse).
        let to_fence = overwrite
            .inter(&self.ext)
            .restrict_domain(&s.marked)
            .union(&self.marked_id)
            .seq(&part.cumul_star)
            .restrict_range(&s.marked);
        let prop = to_fence
            .union(&to_fence.seq(&part.rfe))
            .restrict_range(&s.marked);
        let hb = ppo
            .union(&part.rfe)
            .union(&prop.minus_identity().inter(&self.int))
            .restrict(&s.marked, &s.marked);
        let Some(hb_star) = hb.acyclic_plus().map(|r| r.opt()) else {
            return no;
        };
        // Associated right to left: strong-fence is sparse, prop and hb* dense.
        let pb = prop
            .seq(&part.strong_fence.seq(&hb_star))
            .restrict_range(&s.marked);
        let Some(pb_star) = pb.acyclic_plus().map(|r| r.opt()) else {
            return no;
        };
        let mut rb = Rel::empty(n);
        let mut rcu_fence = Rel::empty(n);
        if self.has_rcu {
            let rn = &self.rcu;
            let rcu_link = rn
                .po_opt_from
                .seq(&hb_star)
                .seq(&pb_star)
                .seq(&prop)
                .seq(&self.po)
                .restrict_range(&rn.set)
                .project(&rn.nodes);
            let rcu_order = rcu_order(
                &rn.gp,
                &rn.sgp,
                &rn.rscsi,
                &part.srcu_rscs.inverse().project(&rn.nodes),
                &rcu_link,
                &rn.loc,
            )
            .expand(&rn.nodes, n);
            rcu_fence = self.po.seq(&rcu_order.union(&rcu_order.seq(&self.po)));
            rb = prop
                .seq(&rcu_fence.seq(&hb_star).seq(&pb_star))
                .restrict_range(&s.marked);
            if !rb.is_irreflexive() {
                return no;
            }
        }
        let flags = self.static_flags | part.flags;
        if !self.has_plain {
            return Judgement {
                consistent: true,
                flags,
            };
        }
        // Plain accesses: the fences now include rcu-fence.
        let fence = part.fence.union(&rcu_fence);
        let strong_fence = part.strong_fence.union(&rcu_fence);
        let nonrw_fence = &part.nonrw_fence;
        let addr = &part.addr;
        let xbstar = hb.union(&pb).union(&rb).star();
        let vis = part
            .cumul_star
            .seq(&part.rfe.opt())
            .restrict_range(&s.marked)
            .seq(
                &strong_fence
                    .restrict_range(&s.marked)
                    .seq(&xbstar)
                    .union(&xbstar.inter(&self.int)),
            );
        let w_pre_bounded = self.marked_id.seq(&addr.union(&fence).opt());
        let r_pre_bounded = self
            .marked_id
            .seq(&addr.union(nonrw_fence).union(&self.rmb_r).opt());
        let w_post_bounded = fence
            .opt()
            .restrict_range(&s.marked)
            .seq(&part.rmw_sequence);
        let r_post_bounded = nonrw_fence
            .union(&self.rmb_w)
            .opt()
            .restrict_range(&s.marked);
        let sf_xb = strong_fence.seq(&xbstar);
        let post_vis = w_post_bounded.seq(&vis);
        let ww_vis = fence
            .union(&sf_xb.seq(&w_pre_bounded))
            .union(&post_vis.seq(&w_pre_bounded));
        let wr_vis = fence
            .union(&sf_xb.seq(&r_pre_bounded))
            .union(&post_vis.seq(&r_pre_bounded));
        let rw_xbstar = fence.union(&r_post_bounded.seq(&xbstar).seq(&w_pre_bounded));
        let pre_race = &self.pre_race;
        let wr_incoh = pre_race.inter(rf).inter(&rw_xbstar.inverse());
        let rw_incoh = pre_race.inter(&fr).inter(&wr_vis.inverse());
        let ww_incoh = pre_race.inter(co).inter(&ww_vis.inverse());
        if !(wr_incoh.is_empty() && rw_incoh.is_empty() && ww_incoh.is_empty()) {
            return no;
        }
        let ww_nonrace = ww_vis
            .inter(&self.marked_w.union(&rw_xbstar))
            .inter(&self.w_marked.union(&wr_vis));
        let ww_race = pre_race.inter(co).minus(&ww_nonrace);
        let wr_race = pre_race
            .inter(&co.opt().seq(rf))
            .minus(&wr_vis)
            .minus(&rw_xbstar.inverse());
        let rw_race = pre_race.inter(&fr).minus(&rw_xbstar);
        let data_race = !(ww_race.is_empty() && wr_race.is_empty() && rw_race.is_empty());
        Judgement {
            consistent: true,
            flags: flags | if data_race { flag::DATA_RACE } else { 0 },
        }
    }
}

/// Least fixpoint of rcu-order, over the projected RCU events.
fn rcu_order(gp: &Rel, sgp: &Rel, rcu_rscsi: &Rel, srcu_rscsi: &Rel, link: &Rel, loc: &Rel) -> Rel {
    let base = gp
        .union(sgp)
        .union(&gp.seq(link).seq(rcu_rscsi))
        .union(&sgp.seq(link).seq(srcu_rscsi).inter(loc))
        .union(&rcu_rscsi.seq(link).seq(gp))
        .union(&srcu_rscsi.seq(link).seq(sgp).inter(loc));
    let mut order = base.clone();
    loop {
        let lo = link.seq(&order).seq(link);
        let mut next = base.clone();
        next.union_with(&gp.seq(&lo).seq(rcu_rscsi));
        next.union_with(&sgp.seq(&lo).seq(srcu_rscsi).inter(loc));
        next.union_with(&rcu_rscsi.seq(&lo).seq(gp));
        next.union_with(&srcu_rscsi.seq(&lo).seq(sgp).inter(loc));
        next.union_with(&order.seq(link).seq(&order));
        next.union_with(&order);
        if next == order {
            return order;
        }
        order = next;
    }
}
