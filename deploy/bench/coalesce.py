"""200 concurrent requests for one cold catalog key, released together; prints the
statuses and how many calls reached tmdb-sim (its own counter)."""
import http.client, json, sys, threading, urllib.parse, urllib.request

gateway, sim, path, upstream_path = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
n = int(sys.argv[5]) if len(sys.argv) > 5 else 200
u = urllib.parse.urlparse(gateway)

def sim_count():
    with urllib.request.urlopen(f"{sim}/__sim/requests") as r:
        return json.load(r)["paths"].get(upstream_path, 0)

before = sim_count()
barrier = threading.Barrier(n)
statuses, lock = {}, threading.Lock()

def one():
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.connect()
    barrier.wait()
    conn.request("GET", path)
    resp = conn.getresponse()
    resp.read()
    with lock:
        statuses[resp.status] = statuses.get(resp.status, 0) + 1

threads = [threading.Thread(target=one) for _ in range(n)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"requests": n, "statuses": statuses, "upstreamCalls": sim_count() - before}))
