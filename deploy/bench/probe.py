"""Fixed-rate latency probe: GET a URL at RATE requests/s for SECONDS over one
keep-alive connection (a user browsing while others log in); prints p50/p99 in ms."""
import http.client, json, sys, time, urllib.parse

url, token, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
u = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
headers = {"Authorization": f"Bearer {token}"}
latencies, errors = [], 0
start = time.monotonic()
n = 0
while time.monotonic() - start < seconds:
    due = start + n / rate
    pause = due - time.monotonic()
    if pause > 0:
        time.sleep(pause)
    t = time.monotonic()
    try:
        conn.request("GET", u.path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            errors += 1
    except Exception:
        errors += 1
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    latencies.append((time.monotonic() - t) * 1000)
    n += 1
latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
print(json.dumps({"rps": n / seconds, "p50Ms": pick(0.50), "p99Ms": pick(0.99), "errors": errors, "requests": n}))
