"""Helpers of the commerce scenarios in `make bench` (deploy/bench/commerce.sh).
Each subcommand prints one JSON object.

  oversell GW TOKEN VARIANT N   N orders of one unit of VARIANT at once, each with
                                its own Idempotency-Key: how many were placed and
                                how many refused with INSUFFICIENT_STOCK
  wait-sql DBURL SQL SECS       seconds until SQL (one boolean) is true, polled
"""
import json, subprocess, sys, threading, time, urllib.error, urllib.request, uuid


def oversell(gw, token, variant, n):
    statuses, codes, lock = [], [], threading.Lock()
    start = threading.Barrier(n)
    body = json.dumps({"lines": [{"variantId": variant, "quantity": 1}]}).encode()

    def one():
        req = urllib.request.Request(f"{gw}/api/orders", data=body, method="POST")
        req.add_header("Authorization", f"Bearer {token}")
        req.add_header("Content-Type", "application/json")
        req.add_header("Idempotency-Key", str(uuid.uuid4()))
        start.wait()
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, code = resp.status, None
        except urllib.error.HTTPError as e:
            status = e.code
            try:
                code = json.load(e)["error"]["code"]
            except Exception:
                code = None
        with lock:
            statuses.append(status)
            codes.append(code)

    threads = [threading.Thread(target=one) for _ in range(n)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({
        "orders": n,
        "placed": statuses.count(201),
        "insufficientStock": sum(1 for s, c in zip(statuses, codes) if s == 409 and c == "INSUFFICIENT_STOCK"),
        "other": sorted(set(s for s, c in zip(statuses, codes) if s != 201 and c != "INSUFFICIENT_STOCK")),
        "seconds": round(time.monotonic() - began, 3),
    }))


def wait_sql(url, sql, secs):
    began = time.monotonic()
    while time.monotonic() - began < secs:
        out = subprocess.run(["psql", url, "-tAc", sql], capture_output=True, text=True)
        if out.stdout.strip() == "t":
            print(json.dumps({"seconds": round(time.monotonic() - began, 2), "reached": True}))
            return
        time.sleep(0.25)
    print(json.dumps({"seconds": round(time.monotonic() - began, 2), "reached": False}))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "oversell":
        oversell(args[0], args[1], args[2], int(args[3]))
    elif cmd == "wait-sql":
        wait_sql(args[0], args[1], float(args[2]))
    else:
        sys.exit(f"unknown subcommand {cmd}")
