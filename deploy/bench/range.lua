-- Random ranges of one file, like a player seeking: wrk -s range.lua URL -- SIZE [CHUNK]
local size, chunk
function init(args)
  size = tonumber(args[1])
  chunk = tonumber(args[2] or 1048576)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
function request()
  local start = math.random(0, size - chunk)
  return wrk.format("GET", nil, { ["Range"] = "bytes=" .. start .. "-" .. (start + chunk - 1) })
end
