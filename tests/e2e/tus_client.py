"""A real tus client (tuspy) uploading a file through the gateway in chunks, with
the connection of its second PATCH cut halfway through its body.

    tus_client.py GATEWAY_URL TOKEN FILE CHUNK_SIZE

Between the client and the gateway sits a small TCP proxy that forwards every
connection, except that it closes the second PATCH's after half its chunk.
tuspy notices, asks the server for the offset (HEAD) and goes on from there.
Prints one JSON object: the upload's URL, the offsets after each request, the
offset the client resumed from, how many connections were cut, and the
Video-Id the last PATCH answered.
"""

import json
import socket
import sys
import threading
from urllib.parse import urlsplit

from tusclient import client
from tusclient.uploader import Uploader


class CuttingProxy(threading.Thread):
    def __init__(self, upstream, cut_patch, cut_after):
        super().__init__(daemon=True)
        self.upstream = upstream
        self.cut_patch = cut_patch
        self.cut_after = cut_after
        self.patches = 0
        self.cuts = 0
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]

    def run(self):
        while True:
            conn, _ = self.server.accept()
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, downstream):
        upstream = socket.create_connection(self.upstream)
        first = downstream.recv(65536)
        budget = None
        if first.startswith(b"PATCH"):
            with self.lock:
                self.patches += 1
                if self.patches == self.cut_patch:
                    head_end = first.find(b"\r\n\r\n")
                    budget = (head_end + 4 if head_end >= 0 else len(first)) + self.cut_after
                    self.cuts += 1
        back = threading.Thread(target=pipe, args=(upstream, downstream), daemon=True)
        back.start()
        sent = 0
        data = first
        while data:
            if budget is not None and sent + len(data) >= budget:
                upstream.sendall(data[: budget - sent])
                # The connection drops: both ends are closed mid-body.
                for s in (upstream, downstream):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    s.close()
                return
            upstream.sendall(data)
            sent += len(data)
            try:
                data = downstream.recv(65536)
            except OSError:
                break
        back.join(timeout=30)
        for s in (upstream, downstream):
            s.close()


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def main():
    gateway, token, path, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    target = urlsplit(gateway)
    proxy = CuttingProxy((target.hostname, target.port), cut_patch=2, cut_after=chunk // 2)
    proxy.start()
    tus = client.TusClient(
        f"http://127.0.0.1:{proxy.port}/api/uploads/",
        headers={"Authorization": f"Bearer {token}"},
    )
    uploader = tus.uploader(
        file_path=path,
        chunk_size=chunk,
        metadata={"caption": "resumed with #tuspy", "filename": "clip.mp4"},
        retries=3,
        retry_delay=1,
        store_url=False,
    )
    resumed = []
    original_get_offset = Uploader.get_offset

    def get_offset(self):
        offset = original_get_offset(self)
        resumed.append(offset)
        return offset

    Uploader.get_offset = get_offset
    offsets = []
    uploader.set_url(uploader.create_url())
    size = uploader.get_file_size()
    video_id = None
    while uploader.offset < size:
        uploader.upload_chunk()
        offsets.append(uploader.offset)
        video_id = uploader.request.response_headers.get("video-id") or video_id
    print(
        json.dumps(
            {
                "url": uploader.url,
                "size": size,
                "offsets": offsets,
                "resumedFrom": resumed,
                "cuts": proxy.cuts,
                "videoId": video_id,
            }
        )
    )


if __name__ == "__main__":
    main()
