-- Provium's test framework: test(), todo(), wait_until(), the `t` context,
-- and the per-test filters. Embedded in provium-runner at build time and run
-- once per test file by framework_binding.cpp, which passes `host` (C++
-- helpers: now, sleep, seconds, getinfo) and drives the returned table.
local host = ...

local error, pcall, select, setmetatable, getmetatable, tostring, type, ipairs =
  error, pcall, select, setmetatable, getmetatable, tostring, type, ipairs
local format, find, gsub, concat = string.format, string.find, string.gsub, table.concat
local math_type, min = math.type, math.min

local M = {tests = {}, todo_reason = nil}
local names = {}
local running = false

-- Values as assertion messages show them: strings quoted and escaped (so
-- "1" and 1 look different), long values cut short.
local escapes = {["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", ['"'] = '\\"', ["\\"] = "\\\\"}
local MAX_SHOWN = 1000

local function show(value)
  local text
  if type(value) == "string" then
    text = '"' .. gsub(value, '[%c"\\]', function(c)
      return escapes[c] or format("\\%d", c:byte())
    end) .. '"'
  else
    text = tostring(value)
  end
  if #text > MAX_SHOWN then text = text:sub(1, MAX_SHOWN) .. "..." end
  return text
end

local function with_prefix(msg, text)
  if msg == nil then return text end
  return tostring(msg) .. ": " .. text
end

-- "file.lua:12: " for the function `level` frames up from our caller.
local function position(level)
  local info = host.getinfo(level + 1, "Sl")
  if info and info.currentline and info.currentline > 0 then
    return info.short_src .. ":" .. info.currentline .. ": "
  end
  return ""
end

---------------------------------------------------------------------------
-- The `t` context.

local Context = {}
Context.__index = Context

local SkipSignal = {}
SkipSignal.__index = SkipSignal
SkipSignal.__tostring = function(signal) return "test skipped: " .. signal.reason end

local function check_self(t, method)
  if getmetatable(t) ~= Context then
    error(format("t:%s: call it as t:%s(...) with `:`", method, method), 3)
  end
end

-- Records the failure (sticky: a pcall around the assertion does not undo
-- it) and raises it with the position of the assertion's caller. The bare
-- message is remembered so the report can show it without the position.
local function raise_failure(t, message, level)
  message = tostring(message)
  if not t._failed then
    t._failed = true
    t._failure = message
  end
  local full = position(level + 1) .. message
  t._raised, t._raised_bare = full, message
  error(full, 0)
end

function Context:assert(cond, msg)
  check_self(self, "assert")
  if not cond then raise_failure(self, msg ~= nil and msg or "assertion failed", 2) end
  return cond
end

function Context:assert_eq(a, b, msg)
  check_self(self, "assert_eq")
  if a ~= b then raise_failure(self, with_prefix(msg, show(a) .. " ~= " .. show(b)), 2) end
end

function Context:assert_neq(a, b, msg)
  check_self(self, "assert_neq")
  if a == b then raise_failure(self, with_prefix(msg, show(a) .. " == " .. show(b)), 2) end
end

function Context:assert_contains(haystack, needle, msg)
  check_self(self, "assert_contains")
  if type(haystack) ~= "string" or type(needle) ~= "string" then
    raise_failure(self, with_prefix(msg, format(
      "t:assert_contains needs two strings, got %s and %s (convert with tostring first)",
      type(haystack), type(needle))), 2)
  end
  if not find(haystack, needle, 1, true) then
    raise_failure(self, with_prefix(msg, show(haystack) .. " does not contain " .. show(needle)), 2)
  end
end

function Context:assert_raises(fn, msg)
  check_self(self, "assert_raises")
  -- An assertion inside `fn` that makes it raise is the expected outcome,
  -- not a failure of this test: restore the sticky flag afterwards.
  local failed, failure = self._failed, self._failure
  local ok, err = pcall(fn)
  if ok then raise_failure(self, with_prefix(msg, "expected to raise"), 2) end
  self._failed, self._failure = failed, failure
  return err
end

function Context:fail(msg)
  check_self(self, "fail")
  raise_failure(self, msg ~= nil and msg or "explicit failure (t:fail)", 2)
end

function Context:skip(reason)
  check_self(self, "skip")
  reason = reason ~= nil and tostring(reason) or "skipped (t:skip)"
  self._skip_reason = reason
  error(setmetatable({reason = reason}, SkipSignal), 0)
end

function Context:log(msg)
  check_self(self, "log")
  self._log[#self._log + 1] = tostring(msg)
end

---------------------------------------------------------------------------
-- Registration.

local function test(name, meta, fn)
  if running then error("test: cannot register a test from inside a test body", 2) end
  if fn == nil and type(meta) == "function" then meta, fn = nil, meta end
  if type(name) ~= "string" then error("test: name must be a string, got " .. type(name), 2) end
  if meta == nil then
    meta = {}
  elseif type(meta) ~= "table" then
    error(format("test: `%s`: meta must be a table, got %s", name, type(meta)), 2)
  end
  if type(fn) ~= "function" then
    error(format("test: `%s`: expected the test body (a function) as the last argument, got %s", name, type(fn)), 2)
  end
  if names[name] then error(format("test: duplicate name `%s` in this file", name), 2) end
  if meta.timeout ~= nil then
    local seconds, err = host.seconds(meta.timeout, "meta.timeout")
    if not seconds then error(format("test: `%s`: %s", name, err), 2) end
  end
  names[name] = true
  M.tests[#M.tests + 1] = {name = name, meta = meta, fn = fn}
end

local function todo(reason)
  if running then error("todo: call it at file scope, not inside a test body", 2) end
  M.todo_reason = reason ~= nil and tostring(reason) or "todo"
end

---------------------------------------------------------------------------
-- wait_until.

local function wait_until(predicate, opts)
  if type(predicate) ~= "function" then
    error("wait_until: predicate must be a function, got " .. type(predicate), 2)
  end
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then error("wait_until: opts must be a table, got " .. type(opts), 2) end
  local timeout, interval = 10, 0.1
  if opts.timeout ~= nil then
    local seconds, err = host.seconds(opts.timeout, "timeout")
    if not seconds then error("wait_until: " .. err, 2) end
    timeout = seconds
  end
  if opts.interval ~= nil then
    local seconds, err = host.seconds(opts.interval, "interval")
    if not seconds then error("wait_until: " .. err, 2) end
    interval = seconds
  end
  local desc = opts.desc ~= nil and tostring(opts.desc) or "condition"
  local deadline = host.now() + timeout
  while true do
    -- Called directly: an error in the predicate propagates with its own
    -- position instead of counting as "not yet".
    local value = predicate()
    if value then return value end
    local left = deadline - host.now()
    if left <= 0 then
      error(format("wait_until: %s not met within %ss", desc, format("%g", timeout)), 2)
    end
    host.sleep(min(interval, left))
  end
end

---------------------------------------------------------------------------
-- Filters: meta.skip, meta.slow, --tag/--no-tag, --tag-meta/--no-tag-meta,
-- in the documented precedence.

local function is_set(value)
  return value ~= nil and value ~= false and value ~= 0
end

local function tags_of(meta)
  local tags = meta.tags
  if type(tags) == "string" then return {tags} end
  local list = {}
  if type(tags) == "table" then
    for _, tag in ipairs(tags) do
      if type(tag) == "string" then list[#list + 1] = tag end
    end
  end
  return list
end

local function contains(list, wanted)
  for _, item in ipairs(list) do
    if item == wanted then return true end
  end
  return false
end

-- meta[key] "contains" value: equal to it as a string scalar, or an array
-- holding it. Maps and numbers never match.
local function meta_contains(meta, key, value)
  local field = meta[key]
  if type(field) == "string" then return field == value end
  if type(field) == "table" then return contains(field, value) end
  return false
end

function M.skip_reason(entry, filter)
  if M.todo_reason then return M.todo_reason end
  local meta = entry.meta
  if type(meta.skip) == "string" then return "skipped: " .. meta.skip end
  if is_set(meta.skip) then return "skipped (meta.skip)" end
  if is_set(meta.slow) and not filter.include_slow then
    return "filtered: slow tests skipped (pass --include-slow)"
  end
  local tags = tags_of(meta)
  for _, tag in ipairs(tags) do
    if contains(filter.no_tags, tag) then return format("filtered: tagged `%s` (--no-tag %s)", tag, tag) end
  end
  if #filter.tags > 0 then
    local matched = false
    for _, tag in ipairs(tags) do
      if contains(filter.tags, tag) then matched = true end
    end
    if not matched then return "filtered: did not match --tag " .. concat(filter.tags, ", ") end
  end
  for _, pair in ipairs(filter.no_tag_meta) do
    if meta_contains(meta, pair.key, pair.value) then
      return format("filtered: --no-tag-meta %s=%s", pair.key, pair.value)
    end
  end
  -- --tag-meta: OR among values of one key, AND across keys.
  local keys, wanted = {}, {}
  for _, pair in ipairs(filter.tag_meta) do
    if not wanted[pair.key] then
      wanted[pair.key] = {}
      keys[#keys + 1] = pair.key
    end
    local values = wanted[pair.key]
    values[#values + 1] = pair.value
  end
  for _, key in ipairs(keys) do
    local matched = false
    for _, value in ipairs(wanted[key]) do
      if meta_contains(meta, key, value) then matched = true end
    end
    if not matched then
      return format("filtered: did not match --tag-meta %s=%s", key, concat(wanted[key], "|"))
    end
  end
  return nil
end

---------------------------------------------------------------------------
-- Running one test.

local function error_text(err)
  if type(err) == "string" then return err end
  local meta = getmetatable(err)
  if meta ~= nil and meta.__tostring then
    local ok, text = pcall(tostring, err)
    if ok and type(text) == "string" then return text end
  end
  return format("(error object is a %s value)", type(err))
end

-- Returns status ("passed" | "failed" | "skipped"), message, log, and the
-- failure with its position when the message had it stripped.
function M.run(entry)
  local t = setmetatable({name = entry.name, meta = entry.meta, _failed = false, _log = {}}, Context)
  running = true
  local ok, err = pcall(entry.fn, t)
  running = false
  local log = type(t._log) == "table" and t._log or {}
  if not ok and getmetatable(err) ~= SkipSignal then
    if type(err) == "string" and err == t._raised then
      -- One of our assertions: report it as the docs show it, without the
      -- position (which goes to the runner log instead).
      return "failed", t._raised_bare, log, err
    end
    return "failed", error_text(err), log, nil
  end
  if t._failed then return "failed", tostring(t._failure), log, nil end
  if t._skip_reason then return "skipped", t._skip_reason, log, nil end
  return "passed", nil, log, nil
end

M.globals = {test = test, todo = todo, wait_until = wait_until}

return M
