# The social scenarios of `make bench`, sourced by run.sh after the others: the
# stack is up (release), GW, TOKEN, OUT, DURATION, PREFIX and wrk_json are set.
# Writes the JSON of each scenario into SOCIAL_* variables for the report.
STACK=(env PROFILE=release bash "$ROOT/deploy/local/stack.sh")
SOCIAL_PID="$(cat "$PIDS/social.pid")"
MEDIA="$OUT/media"
SEEDED_PORT=8095
SEEDED_DB=social_bench
STREAMED_PORT=8097
mkdir -p "$MEDIA"
social_py() { python3 "$ROOT/deploy/bench/social.py" "$@"; }
lavfi_clip() { # seconds, output, extra encoder arguments...
  local secs="$1" out="$2"; shift 2
  [ -s "$out" ] || ffmpeg -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=30" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000" -t "$secs" \
    -c:v libx264 -pix_fmt yuv420p "$@" -c:a aac -movflags +faststart "$out" || die "ffmpeg could not make $out"
}

log "social: a 150 MiB upload, streamed through the gateway, and the service's resident memory"
[ -s "$MEDIA/upload-150m.bin" ] || head -c $((150 * 1024 * 1024)) /dev/urandom > "$MEDIA/upload-150m.bin"
SOCIAL_UPLOAD="$(social_py upload-rss "$GW" "$TOKEN" "$SOCIAL_PID" "$MEDIA/upload-150m.bin")" || die "upload benchmark failed"

log "social: processing a 10 s 720p clip, and the same ffmpeg commands alone"
lavfi_clip 10 "$MEDIA/clip-10s-720p.mp4" -preset veryfast
rm -rf "$MEDIA/work" && mkdir -p "$MEDIA/work"
"${STACK[@]}" exec social media-commands "$MEDIA/clip-10s-720p.mp4" "$MEDIA/work" > "$MEDIA/plan.json" || die "social media-commands failed"
SOCIAL_PROCESS="$(social_py process "$GW" "$TOKEN" "$MEDIA/clip-10s-720p.mp4" "$MEDIA/plan.json" 3)" || die "processing benchmark failed"

log "social: random 1 MiB ranges of a 50 MB video at concurrency 8, and nginx serving the same file from disk"
# The test pattern under noise at 37 Mbit/s: 10 s make about 50 MB.
lavfi_clip 10 "$MEDIA/video-50m.mp4" -vf noise=alls=20:allf=t -preset ultrafast -b:v 37M -maxrate 37M -bufsize 74M
STREAM_ID="$(curl -fsS -H "Authorization: Bearer $TOKEN" -F caption="Range benchmark" \
  -F "file=@$MEDIA/video-50m.mp4;type=video/mp4" "$GW/api/videos/upload" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')" || die "50 MB upload failed"
social_py wait-ready "$GW" "$TOKEN" "$STREAM_ID" 300 | grep -q '"ready"' || die "the 50 MB video did not become ready"
STREAM_SIZE="$(stat -c %s "$MEDIA/video-50m.mp4")"
ORIGINAL="$RUN/storage/videos/$STREAM_ID/original"
cmp -s "$ORIGINAL" "$MEDIA/video-50m.mp4" || die "the stored original differs from the upload"
# The stack's social hands the bytes to the gateway (MEDIA_ACCEL_REDIRECT); a
# replica on :$STREAMED_PORT streams them itself, as it does from S3.
MEDIA_ACCEL_REDIRECT=false "${STACK[@]}" replica social "$STREAMED_PORT" || die "the streaming replica did not start"
# All three answer the same range with the same bytes.
curl -fsS -r 1000000-1999999 "$GW/api/videos/$STREAM_ID/stream" -o "$MEDIA/range-social"
curl -fsS -r 1000000-1999999 "$GW/__bench/streamed/api/videos/$STREAM_ID/stream" -o "$MEDIA/range-streamed"
curl -fsS -r 1000000-1999999 "$GW/__bench/files/videos/$STREAM_ID/original" -o "$MEDIA/range-nginx"
cmp -s "$MEDIA/range-social" "$MEDIA/range-nginx" || die "the service's range differs from nginx's"
cmp -s "$MEDIA/range-streamed" "$MEDIA/range-nginx" || die "the streaming replica's range differs from nginx's"
# Three rounds, each nginx, then the service, then the streaming replica: the
# machine's speed drifts by a third between runs of the same thing here, so the
# round of median ratio is reported, with every round's ratios beside it.
STREAM_PAIRS=""
for pair in 1 2 3; do
  wrk -t2 -c8 -d"${DURATION}s" --latency -s "$ROOT/deploy/bench/range.lua" \
    "$GW/__bench/files/videos/$STREAM_ID/original" -- "$STREAM_SIZE" > "$OUT/stream-nginx-$pair.txt"
  wrk -t2 -c8 -d"${DURATION}s" --latency -s "$ROOT/deploy/bench/range.lua" \
    "$GW/api/videos/$STREAM_ID/stream" -- "$STREAM_SIZE" > "$OUT/stream-social-$pair.txt"
  wrk -t2 -c8 -d"${DURATION}s" --latency -s "$ROOT/deploy/bench/range.lua" \
    "$GW/__bench/streamed/api/videos/$STREAM_ID/stream" -- "$STREAM_SIZE" > "$OUT/stream-streamed-$pair.txt"
  STREAM_PAIRS="$STREAM_PAIRS${STREAM_PAIRS:+,}[$(wrk_json < "$OUT/stream-nginx-$pair.txt"),$(wrk_json < "$OUT/stream-social-$pair.txt"),$(wrk_json < "$OUT/stream-streamed-$pair.txt")]"
done
stop_pidfile "$PIDS/replica-social-$STREAMED_PORT.pid" "social-$STREAMED_PORT"

log "social: like storm, 10,000 likes by 1,000 users on 10 videos at concurrency 64"
SOCIAL_LIKES="$(LIKE_STORM_GATEWAY="$GW" LIKE_STORM_CLERK="http://127.0.0.1:$CLERK_SIM_PORT" \
  LIKE_STORM_USERS=1000 LIKE_STORM_VIDEOS=10 LIKE_STORM_CONCURRENCY=64 "$ROOT/target/release/like-storm")" || die "like storm failed"
SOCIAL_RECOUNT="$("${STACK[@]}" exec social recount)" || die "social recount failed"
PGBENCH_UPDATE_TPS="$(pgbench -b simple-update -n -c 64 -j 2 -T "$DURATION" "$(db_url bench)" 2>/dev/null | awk '/^tps/ {print $3; exit}')"

log "social: 1,000,000 videos by 10,000 creators in a database of their own, served by a replica on :$SEEDED_PORT"
psql "$(admin_url)" -qc "DROP DATABASE IF EXISTS $SEEDED_DB" -c "CREATE DATABASE $SEEDED_DB" >/dev/null
# The creators are in the directory, as users who signed up would be.
psql -v ON_ERROR_STOP=1 "$(db_url meetings)" -q >/dev/null <<SQL || die "seeding the directory failed"
INSERT INTO profiles (issuer, subject, name)
SELECT 'reelstack', '$PREFIX-c' || c, 'Creator ' || c FROM generate_series(0, 9999) AS c;
SQL
DATABASE_URL="$(db_url "$SEEDED_DB")" "$ROOT/target/release/social" migrate >/dev/null 2>&1 || die "migrations of $SEEDED_DB failed"
# One video every 30 s over the last year; each creator posts every 10,000th.
psql -v ON_ERROR_STOP=1 "$(db_url "$SEEDED_DB")" -q >/dev/null <<SQL || die "seeding $SEEDED_DB failed"
INSERT INTO videos (id, author_issuer, author_subject, caption, status, source, media, created_at, updated_at)
SELECT gen_random_uuid(), 'reelstack', '$PREFIX-c' || (g % 10000), 'Seeded clip ' || g, 'ready', 'external',
       jsonb_build_object('url', 'https://cdn.example.com/seeded/' || g || '.mp4'),
       now() - make_interval(secs => g * 30), now() - make_interval(secs => g * 30)
FROM generate_series(1, 1000000) AS g;
INSERT INTO user_stats (issuer, subject, video_count)
SELECT 'reelstack', '$PREFIX-c' || c, 100 FROM generate_series(0, 9999) AS c;
VACUUM ANALYZE;
SQL
# Started on the seeded rows, so its first trending snapshot ranks them.
"${STACK[@]}" replica social "$SEEDED_PORT" "$SEEDED_DB" || die "the seeded replica did not start"
SEEDED="$GW/__bench/seeded"
# The bench user follows 1,000 of them through the API (every 10th creator).
FOLLOWED="$(seq 0 10 9999 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X PUT \
  -H "Authorization: Bearer $TOKEN" "$SEEDED/api/users/$PREFIX-c{}/follow" | grep -c '^200$')"
[ "$FOLLOWED" = 1000 ] || die "only $FOLLOWED of 1000 follows succeeded"
CURSOR_50="$(social_py cursor "$SEEDED" "$TOKEN" /api/feed/following 50 | python3 -c 'import json,sys; print(json.load(sys.stdin)["cursor"])')" || die "could not walk to page 50"
# Page 50 holds 20 videos of followed creators, with their names from the directory.
curl -fsS -H "Authorization: Bearer $TOKEN" "$SEEDED/api/feed/following?cursor=$CURSOR_50" | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
assert len(items) == 20, len(items)
for v in items:
    n = int(v["author"]["id"].rsplit("-c", 1)[1])
    assert n % 10 == 0 and v["author"]["name"] == f"Creator {n}", v["author"]
' || die "page 50 of the following feed is not what was seeded"
wrk -t1 -c4 -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$SEEDED/api/feed/following" > "$OUT/following-1.txt"
FOLLOWING_1="$(wrk_json < "$OUT/following-1.txt")"
wrk -t1 -c4 -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$SEEDED/api/feed/following?cursor=$CURSOR_50" > "$OUT/following-50.txt"
FOLLOWING_50="$(wrk_json < "$OUT/following-50.txt")"

log "social: trending feed (of the seeded million) and the replica's /health/live, both through the gateway"
curl -fsS -o /dev/null "$SEEDED/api/feed/trending" || die "trending not answering"
wrk -t2 -c32 -d"${DURATION}s" --latency "$SEEDED/health/live" > "$OUT/social-live.txt"
SOCIAL_LIVE="$(wrk_json < "$OUT/social-live.txt")"
wrk -t2 -c32 -d"${DURATION}s" --latency "$SEEDED/api/feed/trending" > "$OUT/trending.txt"
TRENDING="$(wrk_json < "$OUT/trending.txt")"

# What was seeded goes: the replica and its database, the creators' profiles.
stop_pidfile "$PIDS/replica-social-$SEEDED_PORT.pid" "social-$SEEDED_PORT"
psql "$(admin_url)" -qc "DROP DATABASE IF EXISTS $SEEDED_DB" >/dev/null
psql "$(db_url meetings)" -qc "DELETE FROM profiles WHERE issuer = 'reelstack' AND subject LIKE '$PREFIX-c%'" >/dev/null

SOCIAL_JSON="$(python3 - <<PY
import json
upload, process = json.loads('''$SOCIAL_UPLOAD'''), json.loads('''$SOCIAL_PROCESS''')
pairs = sorted(json.loads('''[$STREAM_PAIRS]'''), key=lambda p: p[1]["bytesPerSec"] / p[0]["bytesPerSec"])
nginx, social, streamed = pairs[len(pairs) // 2]
likes, recount = json.loads('''$SOCIAL_LIKES'''), json.loads('''$SOCIAL_RECOUNT''')
f1, f50 = json.loads('''$FOLLOWING_1'''), json.loads('''$FOLLOWING_50''')
live, trending = json.loads('''$SOCIAL_LIVE'''), json.loads('''$TRENDING''')
pg = float("$PGBENCH_UPDATE_TPS" or 0)
print(json.dumps({
  "followingFeed": {"videos": 1000000, "creators": 10000, "followed": 1000,
                    "page1": f1, "page50": f50, "p50TargetMs": 15},
  "trending": {**trending, "healthLiveViaGateway": live, "ratio": trending["rps"] / live["rps"], "target": ">= 0.5"},
  "likeStorm": {**likes, "pgbenchSimpleUpdateTps": pg, "ratio": likes["likesPerSec"] / pg if pg else None,
                "target": ">= 0.3", "recount": {"checked": recount["checked"], "fixed": recount["fixed"]}},
  "rangeStreaming": {"bytes": int("$STREAM_SIZE"), "chunkBytes": 1048576, "concurrency": 8,
                     "service": social, "nginxFromDisk": nginx,
                     "ratio": social["bytesPerSec"] / nginx["bytesPerSec"], "target": ">= 0.5",
                     "pairRatios": [round(s["bytesPerSec"] / n["bytesPerSec"], 3) for n, s, _ in pairs],
                     "streamedByService": {**streamed, "ratio": streamed["bytesPerSec"] / nginx["bytesPerSec"],
                                           "roundRatios": [round(t["bytesPerSec"] / n["bytesPerSec"], 3) for n, _, t in pairs]},
                     "non2xx": sum(s["non2xx"] + t["non2xx"] for _, s, t in pairs)},
  "upload150MiB": {**upload, "growthTargetKiB": 32 * 1024},
  "processing10s720p": {**process, "target": "<= 1.2"},
}))
PY
)"
