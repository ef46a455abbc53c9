-- Runs one script (global SCRIPT, in DIR) and turns a Lua error into a "not ok" line
-- with its message, so that a failing step says what failed.
local ok, err = pcall(dofile, DIR .. "/" .. SCRIPT .. ".lua")
if not ok then
	print("not ok - milter/" .. SCRIPT .. ": script stopped: " .. tostring(err))
end
