-- commerce's write scenarios for wrk, by the first argument after `--`:
--   order IDS_FILE TOKEN   each wrk thread places orders of one unit of its own
--                          variant (line N of IDS_FILE), a fresh Idempotency-Key each
--   events IDS_FILE        batches of 100 product views from random sessions over
--                          the products listed in IDS_FILE
local threads, counter = {}, 0
local mode, ids, token, mine, tag = nil, {}, nil, nil, nil

local function read_ids(path)
  local list = {}
  for line in io.lines(path) do
    if #line > 0 then list[#list + 1] = line end
  end
  return list
end

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  table.insert(threads, thread)
end

function init(args)
  mode, ids = args[1], read_ids(args[2])
  token = args[3]
  mine = ids[((index or 1) - 1) % #ids + 1]
  tag = tostring(index or 1) .. "-" .. tostring(os.time())
  math.randomseed(os.time() * 1000 + (index or 1))
end

local n = 0
function request()
  n = n + 1
  if mode == "order" then
    local body = '{"lines":[{"variantId":"' .. mine .. '","quantity":1}]}'
    return wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. token,
      ["Idempotency-Key"] = "bench-" .. tag .. "-" .. n,
    }, body)
  end
  local events = {}
  for i = 1, 100 do
    events[i] = string.format('{"type":"product_view","productId":"%s","sessionId":"s-%s-%d"}',
      ids[math.random(#ids)], tag, math.random(1, 100000))
  end
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" },
    '{"events":[' .. table.concat(events, ",") .. ']}')
end
