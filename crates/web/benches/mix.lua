-- A wrk script that spreads requests over many distinct URLs of the web
-- view and API instead of hammering one (which a response cache answers
-- from memory): every subsystem of load_data.sql, every view, severity,
-- pre-existing, age and file filter, every sort, deep pages by keyset
-- cursor, /api/bugs with and without filters and cursors, /api/patchset
-- for random series (and the reviewed one), the subsystem list and
-- /api/subsystems. Each wrk thread draws its own deterministic sequence.
--
-- Share of requests: 50% subsystem pages, 20% /api/bugs, 15%
-- /api/patchset, 10% /, 5% /api/subsystems.
--
-- Usage: wrk -t2 -c50 -d10s -s crates/web/benches/mix.lua http://127.0.0.1:PORT
-- It assumes the ids load_data.sql gives a fresh database: bug g (1 to
-- 100,000) is in subsystem g % 40, series versions 1 to 5,000 have
-- patches p-<version>-1@bench and p-<version>-2@bench.

local subsystems = {
  "mm", "net", "drivers/net", "fs/ext4", "fs/btrfs", "fs/xfs", "kernel", "sched", "block", "drivers/gpu",
  "drivers/usb", "drivers/scsi", "drivers/nvme", "arch/x86", "arch/arm64", "sound/soc", "security", "crypto",
  "drivers/infiniband", "drivers/md", "fs/nfs", "fs/f2fs", "io_uring", "bpf", "drivers/iio", "drivers/i2c",
  "drivers/spi", "drivers/pci", "drivers/tty", "drivers/input", "drivers/media", "drivers/hid", "drivers/acpi",
  "drivers/clk", "drivers/pinctrl", "drivers/regulator", "virt", "lib", "ipc", "init",
}
local views = { "needs-action", "all", "open", "confirmed", "fixed", "invalid" }
local severities = { "critical", "high", "medium", "low" }
local sorts = { "newest", "oldest", "severity", "file", "updated" }
local states = { "open", "confirmed", "fixed", "invalid" }

local function pick(list)
  return list[math.random(#list)]
end

local function chance(percent)
  return math.random(100) <= percent
end

-- A bug id in subsystem number `index` (0-based).
local function bug_in(index)
  return 40 * math.random(0, 2499) + index
end

local function subsystem_page()
  local index = math.random(0, #subsystems - 1)
  local path = "/subsystem/" .. subsystems[index + 1]
  if chance(20) then
    return path
  end
  local query = { "view=" .. pick(views) }
  if chance(30) then query[#query + 1] = "severity=" .. pick(severities) end
  if chance(20) then query[#query + 1] = "preexisting=" .. (chance(50) and "yes" or "no") end
  if chance(10) then query[#query + 1] = "age=" .. pick({ 7, 30, 90 }) end
  if chance(10) then
    query[#query + 1] = "file=" .. subsystems[index + 1]:gsub("/", "%%2F") .. "%2Ffile" .. math.random(0, 4)
  end
  query[#query + 1] = "sort=" .. pick(sorts)
  if chance(40) then
    query[#query + 1] = (chance(80) and "after=" or "before=") .. bug_in(index)
  end
  return path .. "?" .. table.concat(query, "&")
end

local function api_bugs()
  local query = { "limit=" .. pick({ 20, 50, 100 }) }
  local index = math.random(0, #subsystems - 1)
  if chance(70) then query[#query + 1] = "subsystem=" .. subsystems[index + 1]:gsub("/", "%%2F") end
  if chance(50) then query[#query + 1] = "state=" .. pick(states) end
  if chance(50) then query[#query + 1] = "before=" .. bug_in(index) end
  return "/api/bugs?" .. table.concat(query, "&")
end

local function api_patchset()
  if chance(10) then
    return "/api/patchset?id=reviewed-2@bench"
  end
  return "/api/patchset?id=p-" .. math.random(1, 5000) .. "-" .. math.random(1, 2) .. "@bench"
end

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  math.randomseed(seed or 1)
end

function request()
  local roll = math.random(100)
  local path
  if roll <= 50 then
    path = subsystem_page()
  elseif roll <= 70 then
    path = api_bugs()
  elseif roll <= 85 then
    path = api_patchset()
  elseif roll <= 95 then
    path = "/"
  else
    path = "/api/subsystems"
  end
  return wrk.format("GET", path)
end
