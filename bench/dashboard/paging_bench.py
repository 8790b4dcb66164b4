#!/usr/bin/env python3
"""Times GET /v1/tasks paging against a daemon holding N tasks (launched here, mock model, no
latency). Usage: paging_bench.py SOCKET N"""
import http.client, json, socket, statistics, sys, time

class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)

sock, n = sys.argv[1], int(sys.argv[2])
c = UnixConnection(sock)
def call(method, target, body=None):
    c.request(method, target, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"} if body is not None else {})
    r = c.getresponse()
    data = r.read()
    return r.status, json.loads(data) if data else None

have = call("GET", "/v1/tasks?limit=1")[1]["counts"]
total = sum(have.values())
t0 = time.time()
for i in range(total, n):
    s, _ = call("POST", "/v1/tasks", {"prompt": "#mock latency=0 tps=0 reply=\"ok\"\nTask %d" % i,
                                      "agent": "explore", "owner": "bench"})
    assert s == 201, s
print("launched %d in %.1f s" % (n - total, time.time() - t0))
for _ in range(600):
    counts = call("GET", "/v1/tasks?limit=1")[1]["counts"]
    if counts["pending"] == 0 and counts["running"] == 0:
        break
    time.sleep(0.5)
print("counts", counts)

def timed(target, runs=10):
    ms = []
    for _ in range(runs):
        a = time.perf_counter()
        s, body = call("GET", target)
        ms.append((time.perf_counter() - a) * 1000)
        assert s == 200, (s, body)
    return statistics.median(ms), body

all_ms, every = timed("/v1/tasks", runs=3)
ids = [t["id"] for t in every["tasks"]]
first_ms, first = timed("/v1/tasks?order=newest&limit=100")
deep_ms, deep = timed("/v1/tasks?order=newest&limit=100&before=" + ids[100])
tree_ms, _ = timed("/v1/tasks?root=" + every["tasks"][0]["root_session_id"])
pools_ms, _ = timed("/v1/pools")
print("tasks in store: %d" % len(ids))
print("GET /v1/tasks (all %d): %.1f ms median of 3" % (len(ids), all_ms))
print("GET /v1/tasks?order=newest&limit=100 (first page + counts): %.1f ms median of 10 (%d tasks, next_before %s)" % (first_ms, len(first["tasks"]), first["next_before"]))
print("GET /v1/tasks?order=newest&limit=100&before=<101st oldest> (deepest page): %.1f ms median of 10 (%d tasks)" % (deep_ms, len(deep["tasks"])))
print("GET /v1/tasks?root=<a tree>: %.1f ms median of 10" % tree_ms)
print("GET /v1/pools: %.1f ms median of 10" % pools_ms)
