#!/usr/bin/env bash
# Renders the gateway configuration.
#   render.sh OUT_DIR
# Environment: GATEWAY_LISTEN (127.0.0.1:8080), GATEWAY_UPSTREAMS ("auth=127.0.0.1:8081
# media_catalog=127.0.0.1:8082 commerce=127.0.0.1:8085"; a service may list several replicas:
# "auth=10.0.0.1:8081,10.0.0.2:8081"), GATEWAY_RATE_PER_SEC
# (50), GATEWAY_RATE_BURST (100), GATEWAY_READ_TIMEOUT (30s), GATEWAY_UPSTREAM_KEEPALIVE
# (60s, below the services' KEEP_ALIVE_SECS), GATEWAY_REAL_IP_FROM (addresses or CIDR
# blocks of a load balancer in front, comma- or space-separated; unset: none) and
# GATEWAY_REAL_IP_HEADER (X-Forwarded-For), GATEWAY_UPLOAD_MAX_BODY (201m: video uploads,
# above the service's VIDEO_MAX_BYTES so that the service answers 413 itself), GATEWAY_MEDIA_DIR
# (social's storage folder, when social runs with MEDIA_ACCEL_REDIRECT on this disk), GATEWAY_EXTRA_CONF and GATEWAY_EXTRA_HTTP_CONF
# (files included inside the server block and the http block, used by the end-to-end
# tests), GATEWAY_ACCESS_LOG, GATEWAY_ERROR_LOG, GATEWAY_TEMP_DIR, and GATEWAY_CONFIG_DIR
# (where OUT_DIR will be mounted when nginx runs elsewhere, e.g. in a container).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
mkdir -p "$out/temp" "$out/logs" "$out/health"
cfg="${GATEWAY_CONFIG_DIR:-$out}"

# Each service's public path prefixes. Routes of a service that is not in
# GATEWAY_UPSTREAMS are left out (the gateway answers them 404).
routes_of() {
  case "$1" in
    auth) cat <<'ROUTES'
        location /api/auth/ { proxy_pass http://auth; }
        location /.well-known/ { proxy_pass http://auth; }
ROUTES
    ;;
    media_catalog) cat <<'ROUTES'
        location /api/movies/ { proxy_pass http://media_catalog; }
        location /api/tv/ { proxy_pass http://media_catalog; }
        location = /api/search { proxy_pass http://media_catalog; }
        location /api/catalog/ { proxy_pass http://media_catalog; }
        location = /api/watchlist { proxy_pass http://media_catalog; }
        location /api/watchlist/ { proxy_pass http://media_catalog; }
        location = /api/favorites { proxy_pass http://media_catalog; }
        location /api/favorites/ { proxy_pass http://media_catalog; }
        location /api/library/ {
            proxy_pass http://media_catalog;
            # Poster uploads: up to 5 MB of image plus the multipart framing.
            location ~ ^/api/library/movies/[^/]+/poster$ {
                client_max_body_size 6m;
                proxy_pass http://media_catalog;
            }
        }
ROUTES
    ;;
    meeting_user_sync) cat <<'ROUTES'
        location /api/user/ { proxy_pass http://meeting_user_sync; }
        location /api/webhooks/ { proxy_pass http://meeting_user_sync; }
        location = /api/meetings { proxy_pass http://meeting_user_sync; }
        location /api/meetings/ {
            proxy_pass http://meeting_user_sync;
            # The live route upgrades to a WebSocket. proxy_set_header here replaces
            # the inherited list, so every forwarded header is named again.
            location ~ ^/api/meetings/[^/]+/live$ {
                proxy_pass http://meeting_user_sync;
                proxy_set_header Upgrade $http_upgrade;
                proxy_set_header Connection $reelstack_connection_upgrade;
                proxy_set_header Host $host;
                proxy_set_header X-Request-Id $reelstack_request_id;
                proxy_set_header X-Real-IP $remote_addr;
                proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                proxy_set_header X-Forwarded-Proto $reelstack_forwarded_proto;
                proxy_read_timeout 1h;
                proxy_send_timeout 1h;
            }
        }
ROUTES
    ;;
    social) cat <<'ROUTES'
        location = /api/videos { proxy_pass http://social; }
        # The media routes may hand a stored file to the gateway
        # (X-Accel-Redirect, ignored from every other route).
        location /api/videos/ { proxy_pass http://social; proxy_ignore_headers X-Accel-Expires; }
        # Uploads go to the service as they arrive (it streams them to object
        # storage and enforces VIDEO_MAX_BYTES); the gateway only caps the body.
        location = /api/videos/upload {
            proxy_pass http://social;
            client_max_body_size @UPLOAD_MAX_BODY@;
            proxy_request_buffering off;
            proxy_read_timeout 10m;
            proxy_send_timeout 10m;
        }
        # Resumable uploads (tus): PATCH bodies stream through as they come, so
        # that what arrived before a dropped connection is kept.
        location ~ ^/api/uploads(/|$) {
            proxy_pass http://social;
            client_max_body_size @UPLOAD_MAX_BODY@;
            proxy_request_buffering off;
            proxy_read_timeout 10m;
            proxy_send_timeout 10m;
        }
        # Ranges of the original and HLS segments stream through unbuffered, up
        # to 256 KiB read from the service at a time (the default page-sized
        # buffer made it a read per 4 KiB).
        location ~ ^/api/videos/[^/]+/(stream|hls/) {
            proxy_pass http://social;
            proxy_ignore_headers X-Accel-Expires;
            proxy_buffering off;
            proxy_buffer_size 256k;
            # Only so that nginx accepts the size above; unbuffered, these stay unused.
            proxy_buffers 4 256k;
            proxy_busy_buffers_size 256k;
        }
        location /api/comments/ { proxy_pass http://social; }
        location /api/users/ { proxy_pass http://social; }
        location /api/feed/ { proxy_pass http://social; }
        location /api/tags/ { proxy_pass http://social; }
        location = /api/notifications { proxy_pass http://social; }
        location /api/notifications/ { proxy_pass http://social; }
        # Server-sent events: each event goes out as it comes, and a stream
        # (heartbeats every 15 s) may stay open for the life of its token.
        location = /api/notifications/stream {
            proxy_pass http://social;
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 1h;
        }
ROUTES
    ;;
    # The shop. The collections (`= /api/categories`, `= /api/products`, ...) are
    # routes of their own, as `/api/videos` is social's.
    commerce) cat <<'ROUTES'
        location = /api/categories { proxy_pass http://commerce; }
        location /api/categories/ { proxy_pass http://commerce; }
        location = /api/products { proxy_pass http://commerce; }
        location /api/products/ {
            proxy_pass http://commerce;
            # Image uploads: up to 10 MB of image (PRODUCT_IMAGE_MAX_BYTES) plus
            # the multipart framing.
            location ~ ^/api/products/[^/]+/images$ {
                client_max_body_size 11m;
                proxy_pass http://commerce;
            }
        }
        location /api/inventory/ { proxy_pass http://commerce; }
        location = /api/cart { proxy_pass http://commerce; }
        location /api/cart/ { proxy_pass http://commerce; }
        location = /api/orders { proxy_pass http://commerce; }
        location /api/orders/ { proxy_pass http://commerce; }
        location = /api/admin/orders { proxy_pass http://commerce; }
        location /api/admin/orders/ { proxy_pass http://commerce; }
        location /api/analytics/ { proxy_pass http://commerce; }
ROUTES
    ;;
    *) echo "render.sh: no routes known for service '$1'" >&2; exit 1 ;;
  esac
}

upstreams="" health_locations="" checks="" entries=""
: > "$out/routes.part"
for spec in ${GATEWAY_UPSTREAMS:-auth=127.0.0.1:8081}; do
  name="${spec%%=*}"; servers="${spec#*=}"
  routes_of "$name" >> "$out/routes.part"
  upstreams+="    upstream ${name} {\n"
  for server in ${servers//,/ }; do upstreams+="        server ${server} max_fails=2 fail_timeout=5s;\n"; done
  # Idle upstream connections are closed by the gateway first (the services keep
  # them KEEP_ALIVE_SECS, 75 by default), so it never reuses one being closed.
  upstreams+="        keepalive 32;\n        keepalive_timeout ${GATEWAY_UPSTREAM_KEEPALIVE:-60s};\n    }\n"
  health_locations+="        location = /health/upstream/${name} {\n            internal;\n            proxy_pass http://${name}/health/ready;\n            proxy_intercept_errors off;\n            error_page 502 503 504 = @health_down;\n        }\n"
  # Each upstream's readiness body goes into a variable; any that is not ok
  # makes the gateway's overall status "degraded".
  checks+="<!--# include virtual=\"/health/upstream/${name}\" set=\"up_${name}\" -->"
  checks+="<!--# if expr='\$up_${name} != /\"status\":\"ok\"/' --><!--# set var=\"overall\" value=\"degraded\" --><!--# endif -->"
  [ -z "$entries" ] || entries+=','
  entries+="\"${name}\":<!--# echo var=\"up_${name}\" encoding=\"none\" default=\"null\" -->"
done
sed -i "s|@UPLOAD_MAX_BODY@|${GATEWAY_UPLOAD_MAX_BODY:-201m}|g" "$out/routes.part"
# GATEWAY_MEDIA_DIR: social's STORAGE_DIR on this disk, for MEDIA_ACCEL_REDIRECT.
# The service checks access, ETags and ranges, then hands the file to this
# internal location (clients cannot reach it; only the videos' folder is under
# it): nginx sends the range itself, its If-Range checked against the service's
# ETag (nginx's own ETag, Last-Modified and If-Modified-Since are off, so the
# service's validators are the only ones). The service's CORS and security
# headers are copied, as proxied answers carry them.
if [ -n "${GATEWAY_MEDIA_DIR:-}" ]; then
  media_dir="${GATEWAY_MEDIA_DIR%/}"
  # nginx would resolve a relative alias against its own prefix folder.
  [ "${media_dir#/}" != "$media_dir" ] || media_dir="$PWD/$media_dir"
  cat >> "$out/routes.part" <<MEDIA
        location /__reelstack/media/videos/ {
            internal;
            alias ${media_dir}/videos/;
            etag off;
            if_modified_since off;
            max_ranges 1;
            add_header Last-Modified "";
            add_header ETag \$upstream_http_etag;
            add_header X-Request-Id \$reelstack_request_id always;
            add_header Access-Control-Allow-Origin \$upstream_http_access_control_allow_origin;
            add_header Access-Control-Allow-Credentials \$upstream_http_access_control_allow_credentials;
            add_header Access-Control-Expose-Headers \$upstream_http_access_control_expose_headers;
            add_header Vary \$upstream_http_vary;
            add_header X-Content-Type-Options \$upstream_http_x_content_type_options;
            add_header X-Frame-Options \$upstream_http_x_frame_options;
            add_header Referrer-Policy \$upstream_http_referrer_policy;
            add_header Strict-Transport-Security \$upstream_http_strict_transport_security;
            add_header traceparent \$upstream_http_traceparent;
        }
MEDIA
fi
health_locations+="        location @health_down { return 200 '{\"status\":\"unreachable\"}'; }\n"
printf '%s%s%s\n' '<!--# set var="overall" value="ok" -->' "$checks" \
  "{\"service\":\"gateway\",\"upstreams\":{${entries}},\"status\":\"<!--# echo var=\"overall\" -->\"}" \
  > "$out/health/health.json"

extra=""
[ -n "${GATEWAY_EXTRA_CONF:-}" ] && extra="        include ${GATEWAY_EXTRA_CONF};"
# GATEWAY_ACCESS_LOG=off: no access log (nginx takes no format after "off").
access_log="${GATEWAY_ACCESS_LOG:-$cfg/logs/access.log} reelstack"
[ "${GATEWAY_ACCESS_LOG:-}" = off ] && access_log="off"
extra_http=""
[ -n "${GATEWAY_EXTRA_HTTP_CONF:-}" ] && extra_http="    include ${GATEWAY_EXTRA_HTTP_CONF};"
# A load balancer or ingress in front: whose header names the client.
real_ip=""
peers="${GATEWAY_REAL_IP_FROM:-}"
for peer in ${peers//,/ }; do real_ip+="    set_real_ip_from ${peer};\n"; done
if [ -n "$real_ip" ]; then
  real_ip+="    real_ip_header ${GATEWAY_REAL_IP_HEADER:-X-Forwarded-For};\n    real_ip_recursive on;\n"
fi

sed \
  -e "s|@PID_FILE@|${GATEWAY_PID_FILE:-$cfg/nginx.pid}|" \
  -e "s|@ERROR_LOG@|${GATEWAY_ERROR_LOG:-$cfg/logs/gateway-error.log}|" \
  -e "s|@ACCESS_LOG@|${access_log}|" \
  -e "s|@TEMP_DIR@|${GATEWAY_TEMP_DIR:-$cfg/temp}|g" \
  -e "s|@LISTEN@|${GATEWAY_LISTEN:-127.0.0.1:8080}|" \
  -e "s|@RATE_PER_SEC@|${GATEWAY_RATE_PER_SEC:-50}|" \
  -e "s|@RATE_BURST@|${GATEWAY_RATE_BURST:-100}|" \
  -e "s|@READ_TIMEOUT@|${GATEWAY_READ_TIMEOUT:-30s}|" \
  -e "s|@HEALTH_ROOT@|$cfg/health|" \
  -e "s|@EXTRA_INCLUDE@|${extra}|" \
  "$here/nginx.conf.template" \
  | awk -v ups="$upstreams" -v hl="$health_locations" -v routes="$out/routes.part" -v rip="$real_ip" -v xhttp="$extra_http" '
      /^@UPSTREAMS@$/ { gsub(/\\n/, "\n", ups); printf "%s", ups; if (xhttp != "") print xhttp; next }
      /^@REAL_IP@$/ { gsub(/\\n/, "\n", rip); printf "%s", rip; next }
      /^@LOCATIONS@$/ { while ((getline line < routes) > 0) print line; next }
      /^@HEALTH_LOCATIONS@$/ { gsub(/\\n/, "\n", hl); printf "%s", hl; next }
      { print }' > "$out/nginx.conf"
echo "$out/nginx.conf"
