"""Drives Debian's python-consul 0.7.1 against a server and prints what it saw as JSON.

Usage: python3 python-consul-client.py HOST PORT
"""
import json
import sys
import threading

import consul

host, port = sys.argv[1], int(sys.argv[2])
c = consul.Consul(host=host, port=port)
seen = {}

seen["put"] = c.kv.put("py/db url", "postgres://db")
index, item = c.kv.get("py/db url")
seen["get"] = {"index": index, "key": item["Key"], "value": item["Value"].decode()}
missing_index, missing = c.kv.get("py/missing")
seen["missing"] = {"index": missing_index, "item": missing}

c.kv.put("py/app/a", "1")
c.kv.put("py/app/b/c", "2")
_, items = c.kv.get("py/app/", recurse=True)
seen["recurse"] = [i["Key"] for i in items]
_, keys = c.kv.get("py/", keys=True, separator="/")
seen["keys"] = keys

_, counter = c.kv.get("py/db url")
seen["cas_ok"] = c.kv.put("py/db url", "postgres://db2", cas=counter["ModifyIndex"])
seen["cas_stale"] = c.kv.put("py/db url", "postgres://db3", cas=counter["ModifyIndex"])
seen["create_only_existing"] = c.kv.put("py/db url", "x", cas=0)
seen["flags"] = c.kv.put("py/flagged", "v", flags=3304740253564472344)
seen["flags_read"] = str(c.kv.get("py/flagged")[1]["Flags"])  # exact: Python ints are unbounded

# A blocking read returns once the key changes; the writer thread is the change, not a delay.
index, _ = c.kv.get("py/watched") if c.kv.put("py/watched", "before") else (None, None)
writer = threading.Timer(0.2, lambda: c.kv.put("py/watched", "after"))
writer.start()
new_index, watched = c.kv.get("py/watched", index=index, wait="10s")
writer.join()
seen["blocking"] = {"advanced": int(new_index) > int(index), "value": watched["Value"].decode()}

seen["delete"] = c.kv.delete("py/app/", recurse=True)
seen["after_delete"] = c.kv.get("py/app/", recurse=True)[1]
seen["status_leader"] = c.status.leader()

# Sessions and locks the way Patroni uses them: lower-case keys, fractional lock-delay, behavior delete.
sid = c.session.create(name="py-leader", ttl=15, lock_delay=0.001, behavior="delete", checks=[])
_, info = c.session.info(sid)
seen["session_info"] = {k: info[k] for k in ("Name", "TTL", "Behavior", "LockDelay", "NodeChecks")}
seen["session_renew"] = c.session.renew(sid)["ID"] == sid
seen["acquire"] = c.kv.put("py/leader", "me", acquire=sid)
_, leader = c.kv.get("py/leader")
seen["holder"] = leader["Session"] == sid
try:
    c.kv.put("py/leader", "x", acquire="00000000-0000-0000-0000-000000000000")
    seen["unknown_session"] = "no error"
except consul.ConsulException as error:
    seen["unknown_session"] = str(error)
seen["session_destroy"] = c.session.destroy(sid)
seen["leader_after_destroy"] = c.kv.get("py/leader")[1]
try:
    c.session.renew(sid)
    seen["renew_destroyed"] = "no error"
except consul.NotFound:
    seen["renew_destroyed"] = "NotFound"
print(json.dumps(seen))
