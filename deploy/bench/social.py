"""Helpers of the social scenarios in `make bench` (deploy/bench/social.sh).
Each subcommand prints one JSON object.

  upload-rss GW TOKEN PID FILE     multipart upload of FILE through the gateway,
                                   sampling the service's resident memory (PID)
  process GW TOKEN FILE PLAN RUNS  FILE uploaded RUNS times, each timed from the
                                   202 to `ready`; beside it the commands of PLAN
                                   (`social media-commands` output) run alone
  wait-ready GW TOKEN ID SECS      until video ID is ready (or failed / timeout)
  cursor GW TOKEN PATH PAGE        the cursor that gives page PAGE of PATH
"""
import json, os, shutil, statistics, subprocess, sys, threading, time, urllib.request


def get_json(url, token=None):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def upload(gw, token, path, caption):
    """curl streams the file (it does not read it whole); returns (status, body)."""
    out = subprocess.run(
        ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-H", f"Authorization: Bearer {token}",
         "-F", f"caption={caption}", "-F", f"file=@{path};type=video/mp4", f"{gw}/api/videos/upload"],
        check=True, capture_output=True, text=True)
    body, _, status = out.stdout.rpartition("\n")
    return int(status), body


def wait_ready(gw, token, vid, secs, interval=0.02):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        video = get_json(f"{gw}/api/videos/{vid}", token)
        if video["status"] != "processing":
            return video
        time.sleep(interval)
    raise SystemExit(f"video {vid} still processing after {secs} s")


def upload_rss(gw, token, pid, path):
    time.sleep(1)
    before = rss_kib(pid)
    peak, done = [before], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    status, body = upload(gw, token, path, "RSS benchmark")
    secs = time.monotonic() - started
    done.set()
    sampler.join()
    peak[0] = max(peak[0], rss_kib(pid))
    if status != 202:
        raise SystemExit(f"upload answered {status}: {body[:300]}")
    return {"bytes": os.path.getsize(path), "secs": secs, "mbPerSec": os.path.getsize(path) / secs / 1e6,
            "rssBeforeKiB": before, "rssPeakKiB": peak[0], "growthKiB": peak[0] - before,
            "videoId": json.loads(body)["id"]}


def process(gw, token, path, plan_file, runs):
    plan = json.load(open(plan_file))
    pipeline, reference = [], []
    for n in range(runs):
        status, body = upload(gw, token, path, f"Processing benchmark {n}")
        started = time.monotonic()
        if status != 202:
            raise SystemExit(f"upload answered {status}: {body[:300]}")
        video = wait_ready(gw, token, json.loads(body)["id"], 300)
        pipeline.append((time.monotonic() - started) * 1000)
        if video["status"] != "ready":
            raise SystemExit(f"processing failed: {video.get('failureReason')}")
    for _ in range(runs):
        shutil.rmtree(plan["hlsDir"], ignore_errors=True)
        os.makedirs(plan["hlsDir"])
        started = time.monotonic()
        for argv in plan["commands"]:
            subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, capture_output=True)
        reference.append((time.monotonic() - started) * 1000)
    p, r = statistics.median(pipeline), statistics.median(reference)
    return {"runs": runs, "pipelineMs": pipeline, "referenceMs": reference,
            "medianPipelineMs": p, "medianReferenceMs": r, "ratio": p / r,
            "commands": [" ".join(argv[:1] + ["..."]) for argv in plan["commands"]]}


def cursor(gw, token, path, page):
    sep = "&" if "?" in path else "?"
    cur = None
    for _ in range(page - 1):
        url = f"{gw}{path}" + (f"{sep}cursor={cur}" if cur else "")
        cur = get_json(url, token)["nextCursor"]
        if not cur:
            raise SystemExit(f"{path} has fewer than {page} pages")
    return {"cursor": cur}


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "upload-rss":
        out = upload_rss(args[0], args[1], args[2], args[3])
    elif cmd == "process":
        out = process(args[0], args[1], args[2], args[3], int(args[4]))
    elif cmd == "wait-ready":
        video = wait_ready(args[0], args[1], args[2], float(args[3]), 0.5)
        out = {"status": video["status"], "failureReason": video.get("failureReason")}
    elif cmd == "cursor":
        out = cursor(args[0], args[1], args[2], int(args[3]))
    else:
        raise SystemExit(__doc__)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
