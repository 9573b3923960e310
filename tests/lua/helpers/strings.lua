-- A helper module loaded with require("helpers.strings"): its source comes
-- from the supervisor, which checks that the path stays inside a root.
local M = {}
function M.trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
return M
