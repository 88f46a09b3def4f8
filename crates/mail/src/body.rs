//! Finds the text of a mail that matters for review: the inline text parts,
//! and a patch sent as an attachment (`text/x-patch`, `*.patch`).
//!
//! Charsets and transfer encodings are decoded by mail-parser (with
//! encoding_rs for gbk, big5, iso-2022-jp ...). This module checks what it
//! could not decode and reports it as diagnostics; it must never drop a part
//! because of a bad charset: undecodable bytes become U+FFFD plus a warning.

use std::borrow::Cow;

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use crate::diagnostic::{Diagnostic, DiagnosticKind};

/// The text parts of one mail.
pub(crate) struct BodyText {
    /// Inline text parts joined by a blank line.
    pub inline: String,
    /// Text of attachments that hold a diff, joined by a blank line.
    pub attached_patches: String,
}

pub(crate) fn extract(message: &Message<'_>, diagnostics: &mut Vec<Diagnostic>) -> BodyText {
    let mut inline = String::new();
    for &part_id in &message.text_body {
        let Some(part) = message.parts.get(part_id as usize) else {
            continue;
        };
        let text: Cow<'_, str> = match &part.body {
            PartType::Text(text) => Cow::Borrowed(text.as_ref()),
            PartType::Html(html) => Cow::Owned(mail_parser::decoders::html::html_to_text(html)),
            _ => continue,
        };
        check_decoding(part, &text, diagnostics);
        if !inline.is_empty() {
            inline.push('\n');
        }
        inline.push_str(&text);
    }
    if inline.is_empty() && message.text_body.is_empty() {
        if let Some(text) = message.body_text(0) {
            inline = text.into_owned();
        }
    }
    let mut attached_patches = String::new();
    for &part_id in &message.attachments {
        let Some(part) = message.parts.get(part_id as usize) else {
            continue;
        };
        let Some(text) = patch_attachment_text(part) else {
            continue;
        };
        check_decoding(part, &text, diagnostics);
        if !attached_patches.is_empty() {
            attached_patches.push('\n');
        }
        attached_patches.push_str(&text);
    }
    BodyText {
        inline,
        attached_patches,
    }
}

/// The text of an attachment that carries a patch, if it does.
fn patch_attachment_text<'p>(part: &'p MessagePart<'_>) -> Option<Cow<'p, str>> {
    let named_like_patch = part
        .attachment_name()
        .map(|name| name.to_ascii_lowercase())
        .is_some_and(|name| name.ends_with(".patch") || name.ends_with(".diff"));
    let typed_like_patch = part.content_type().is_some_and(|content_type| {
        content_type.c_subtype.as_deref().is_some_and(|subtype| {
            let subtype = subtype.to_ascii_lowercase();
            subtype == "x-patch" || subtype == "x-diff" || subtype == "patch" || subtype == "diff"
        })
    });
    let text: Cow<'p, str> = match &part.body {
        PartType::Text(text) => Cow::Borrowed(text.as_ref()),
        PartType::Binary(bytes) | PartType::InlineBinary(bytes)
            if named_like_patch || typed_like_patch =>
        {
            String::from_utf8_lossy(bytes)
        }
        _ => return None,
    };
    (named_like_patch || typed_like_patch || crate::diff::contains_diff(&text)).then_some(text)
}

/// Charsets that mail-parser decodes as UTF-8 without listing them.
fn is_utf8_or_ascii(charset: &str) -> bool {
    let lower = charset.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "utf-8" | "utf8" | "us-ascii" | "ascii" | "utf_8"
    )
}

fn check_decoding(part: &MessagePart<'_>, text: &str, diagnostics: &mut Vec<Diagnostic>) {
    let charset = part
        .content_type()
        .and_then(|content_type| content_type.attribute("charset"))
        .map(str::to_owned);
    if let Some(charset) = &charset {
        let known = is_utf8_or_ascii(charset)
            || mail_parser::decoders::charsets::map::charset_decoder(charset.as_bytes()).is_some();
        if !known {
            diagnostics.push(Diagnostic::warning(
                DiagnosticKind::UnknownCharset,
                format!("unknown charset {charset:?}, text read as UTF-8"),
            ));
        }
    }
    if part.is_encoding_problem {
        diagnostics.push(Diagnostic::warning(
            DiagnosticKind::BrokenTransferEncoding,
            "damaged base64 or quoted-printable data, decoded what could be read",
        ));
    }
    let replaced = if text.contains(char::REPLACEMENT_CHARACTER) {
        text.matches(char::REPLACEMENT_CHARACTER).count()
    } else {
        0
    };
    if replaced > 0 {
        diagnostics.push(Diagnostic::warning(
            DiagnosticKind::UndecodableBytes,
            format!(
                "{replaced} undecodable byte sequence(s) in charset {} replaced by U+FFFD",
                charset.as_deref().unwrap_or("(none)")
            ),
        ));
    }
}
