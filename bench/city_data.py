"""Generated data of a whole city in one PostgreSQL, written by the server itself (INSERT … SELECT
generate_series): no row goes through Python, so 10 million messages take minutes, not hours.

The shape (defaults; every count is a parameter of ``bench/city.py``):

- 1,000 communities in streets of 10, each with 4 grids of 5 buildings, a resident group, 8 staff
  (an admin on duty, 3 duty members, a grid worker per grid) and 100 residents;
- 1,000,000 requests over the last year: 100,000 open (10,000 just received with their reply clock
  still running, the others acknowledged, dispatched or in progress) and 900,000 done, rejected or
  merged, with first replies, resolutions, ratings and levels spread as a busy city has them;
- a reply clock per request (10,000 open), 2–4 timeline events per request;
- 10,000,000 stored messages: the requests' own, the rest group chatter over the year.

Secondary indexes of the big tables are dropped for the load and rebuilt after it (the same
definitions, read back from ``pg_indexes``), then everything is ANALYZEd. ``setseed`` makes two runs
produce the same city.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import text

BIG_TABLES = ("message", "service_request", "request_event", "reply_clock")
CATEGORIES = ("repair", "utilities", "environment", "parking", "ebike", "noise", "property", "safety",
              "neighbor", "other")
TEXTS = ("楼道灯坏了，晚上很黑", "下水道堵了，污水漫出来", "楼下电动车乱停，挡住消防通道", "楼上装修太吵",
         "垃圾桶满了没人清", "屋顶漏水，天花板滴水", "小区门口路灯不亮", "停车位被占", "水管爆了", "邻居家狗一直叫")
CHATTER = ("早上好", "收到，谢谢", "今天几点停水？", "明天社区有活动吗", "好的", "[图片]", "谁家的快递放错了",
           "群里通知一下大家", "辛苦了", "周末一起去公园")
GRIDS, BUILDINGS_PER_GRID, STAFF, RESIDENTS = 4, 5, 8, 100


@dataclass(frozen=True)
class City:
    communities: int = 1000
    open_requests: int = 100_000
    open_clocks: int = 10_000
    done_requests: int = 900_000
    messages: int = 10_000_000
    owed_alerts: int = 50  # open clocks whose breach alert is owed now (the sweep's work)

    @property
    def streets(self) -> int:
        return -(-self.communities // 10)

    @property
    def requests(self) -> int:
        return self.open_requests + self.done_requests


def _array(values) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _org(conn, city: City) -> None:
    c = city.communities
    conn.execute(text("INSERT INTO street (id, name, district, created_at) SELECT s, '第' || s || '街道', '示范区', now() "
                      "FROM generate_series(1, :n) s"), {"n": city.streets})
    conn.execute(text("INSERT INTO community (id, street_id, name, code, created_at) "
                      "SELECT c, (c - 1) / 10 + 1, '社区' || c, 'C' || c, now() FROM generate_series(1, :n) c"), {"n": c})
    conn.execute(text(f"INSERT INTO grid (id, community_id, name, created_at) SELECT g, (g - 1) / {GRIDS} + 1, "
                      f"'第' || ((g - 1) % {GRIDS} + 1) || '网格', now() FROM generate_series(1, :n) g"),
                 {"n": c * GRIDS})
    per = GRIDS * BUILDINGS_PER_GRID
    conn.execute(text(f"INSERT INTO building (id, community_id, grid_id, number, name, created_at) "
                      f"SELECT b, (b - 1) / {per} + 1, (b - 1) / {BUILDINGS_PER_GRID} + 1, ((b - 1) % {per} + 1)::text, "
                      f"((b - 1) % {per} + 1) || '号楼', now() FROM generate_series(1, :n) b"), {"n": c * per})
    conn.execute(text("INSERT INTO resident_group (id, community_id, channel, chat_id, name, kind, active, created_at) "
                      "SELECT c, c, 'group', 'chat-' || c, '社区' || c || '居民群', 'resident', true, now() "
                      "FROM generate_series(1, :n) c"), {"n": c})
    # Staff k of community c has id (c - 1) * STAFF + k: 1 the admin, 2–4 duty, 5–8 the grid workers.
    conn.execute(text(f"INSERT INTO staff (id, community_id, grid_id, name, phone, title, active, created_at) "
                      f"SELECT s, (s - 1) / {STAFF} + 1, CASE WHEN (s - 1) % {STAFF} >= 4 "
                      f"THEN ((s - 1) / {STAFF}) * {GRIDS} + (s - 1) % {STAFF} - 3 END, '工作人员' || s, "
                      f"'139' || lpad(s::text, 8, '0'), '社工', true, now() FROM generate_series(1, :n) s"),
                 {"n": c * STAFF})
    conn.execute(text(f"INSERT INTO staff_role (staff_id, role) SELECT s, CASE WHEN (s - 1) % {STAFF} = 0 "
                      f"THEN 'community_admin' WHEN (s - 1) % {STAFF} < 4 THEN 'duty' ELSE 'grid_worker' END "
                      f"FROM generate_series(1, :n) s UNION ALL SELECT s, 'duty' FROM generate_series(1, :n) s "
                      f"WHERE (s - 1) % {STAFF} = 0"), {"n": c * STAFF})
    conn.execute(text(f"INSERT INTO resident (id, community_id, building_id, name, nickname, created_at) "
                      f"SELECT r, (r - 1) / {RESIDENTS} + 1, ((r - 1) / {RESIDENTS}) * {per} + (r % {per}) + 1, "
                      f"'居民' || r, '邻居' || r, now() FROM generate_series(1, :n) r"), {"n": c * RESIDENTS})


def _requests(conn, city: City) -> None:
    """Requests 1…open are open (the first ``open_clocks`` just received), the rest are history."""
    per = GRIDS * BUILDINGS_PER_GRID
    conn.execute(text(f"""
        INSERT INTO service_request (id, code, community_id, grid_id, building_id, category, urgency, title, text,
            photos, resident_id, message_id, group_id, chat_id, channel, status, assignee_id, escalation_level, due_at,
            first_reply_at, resolved_at, resolved_level, rating, last_resident_at, created_at, updated_at)
        SELECT id, 'C' || lpad(id::text, 9, '0'), community, (community - 1) * {GRIDS} + grid + 1,
            (community - 1) * {per} + grid * {BUILDINGS_PER_GRID} + building + 1, category, 'general',
            left(body, 20), body, '[]', (community - 1) * {RESIDENTS} + (id % {RESIDENTS}) + 1, id, community,
            'chat-' || community, 'group', status,
            CASE WHEN status IN ('dispatched', 'in_progress', 'resolved', 'closed')
                 THEN (community - 1) * {STAFF} + 5 + grid END,
            level, created + interval '7 days',
            CASE WHEN status <> 'received' THEN created + reply_after END,
            CASE WHEN status IN ('resolved', 'closed') THEN created + resolve_after END,
            CASE WHEN status IN ('resolved', 'closed') THEN level END,
            CASE WHEN status = 'closed' THEN (ARRAY['satisfied', 'satisfied', 'satisfied', 'basically',
                'unsatisfied', NULL])[1 + (id % 6)] END,
            created, created,
            -- the last write: the first reply or the resolution (never later than now)
            LEAST(now(), GREATEST(created, CASE WHEN status <> 'received' THEN created + reply_after END,
                                  CASE WHEN status IN ('resolved', 'closed') THEN created + resolve_after END))
        FROM (SELECT id, 1 + (hashint % :communities) AS community, (hashint / 7) % {GRIDS} AS grid,
                     (hashint / 31) % {BUILDINGS_PER_GRID} AS building,
                     ({_array(CATEGORIES)})[1 + (hashint / 131) % 10] AS category,
                     ({_array(TEXTS)})[1 + (hashint / 17) % 10] || ' #' || id AS body,
                     CASE WHEN id <= :clocks - :owed THEN now() - random() * interval '44 minutes'
                          WHEN id <= :clocks THEN now() - interval '61 minutes' - random() * interval '1 hour'
                          WHEN id <= :open THEN now() - random() * interval '30 days'
                          ELSE now() - interval '1 day' - random() * interval '364 days' END AS created,
                     CASE WHEN id <= :clocks THEN 'received'
                          WHEN id <= :open THEN (ARRAY['acknowledged', 'dispatched', 'in_progress'])[1 + id % 3]
                          ELSE (ARRAY['closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed',
                                      'closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'resolved',
                                      'resolved', 'rejected', 'merged', 'closed'])[1 + (hashint / 3) % 20] END AS status,
                     CASE WHEN id <= :clocks THEN 'grid'
                          ELSE (ARRAY['grid', 'grid', 'grid', 'grid', 'grid', 'grid', 'community', 'community',
                                      'community', 'street'])[1 + (hashint / 11) % 10] END AS level,
                     random() * interval '2 hours' AS reply_after,
                     interval '2 hours' + random() * interval '10 days' AS resolve_after
              FROM (SELECT id, (hashint4(id)::bigint & 2147483647) AS hashint FROM generate_series(1, :total) id) ids) r
    """), {"communities": city.communities, "clocks": city.open_clocks, "owed": city.owed_alerts,
           "open": city.open_requests, "total": city.requests})


def _clocks_and_events(conn, city: City) -> None:
    conn.execute(text("""
        INSERT INTO reply_clock (id, community_id, message_id, request_id, group_id, resident_id, started_at, warn_at,
            due_at, next_alert_at, stopped_at, stopped_by_staff_id, created_at, updated_at)
        SELECT id, community_id, id, id, group_id, resident_id, created_at, created_at + interval '45 minutes',
            created_at + interval '1 hour',
            CASE WHEN first_reply_at IS NULL THEN
                 CASE WHEN created_at + interval '45 minutes' > now() THEN created_at + interval '45 minutes'
                      ELSE created_at + interval '1 hour' END END,
            first_reply_at, CASE WHEN first_reply_at IS NOT NULL THEN (community_id - 1) * 8 + 1 + id % 4 END,
            created_at, LEAST(now(), coalesce(first_reply_at, created_at))
        FROM service_request"""))
    conn.execute(text("""
        INSERT INTO request_event (request_id, at, actor_type, actor_id, kind, from_status, to_status)
        SELECT id, created_at, 'resident', resident_id, 'created', NULL, 'received' FROM service_request
        UNION ALL
        SELECT id, first_reply_at, 'staff', assignee_id, 'replied', 'received', 'acknowledged'
        FROM service_request WHERE first_reply_at IS NOT NULL
        UNION ALL
        SELECT id, first_reply_at + interval '1 minute', 'staff', assignee_id, 'escalated', NULL, NULL
        FROM service_request WHERE escalation_level <> 'grid'
        UNION ALL
        SELECT id, resolved_at, 'staff', assignee_id, 'resolved', 'in_progress', 'resolved'
        FROM service_request WHERE resolved_at IS NOT NULL"""))


def _messages(conn, city: City) -> None:
    conn.execute(text("""
        INSERT INTO message (id, direction, channel, dedupe_key, chat_id, group_id, community_id, sender_id,
            sender_name, resident_id, is_staff, msg_type, text, received_at, attempts)
        SELECT id, 'in', 'group', 'g' || id, chat_id, group_id, community_id, 'member-' || resident_id,
            '邻居' || resident_id, resident_id, false, 'text', text, created_at, 0
        FROM service_request"""))
    conn.execute(text(f"""
        INSERT INTO message (id, direction, channel, dedupe_key, chat_id, group_id, community_id, sender_id,
            sender_name, resident_id, is_staff, msg_type, text, received_at, attempts)
        SELECT id, 'in', 'group', 'g' || id, 'chat-' || community, community, community, 'member-' || resident,
            '邻居' || resident, resident, false, 'text', ({_array(CHATTER)})[1 + id % 10],
            now() - random() * interval '365 days', 0
        FROM (SELECT id, 1 + (hashint4(id)::bigint & 2147483647) % :communities AS community FROM generate_series(:first, :last) id) m,
             LATERAL (SELECT (community - 1) * {RESIDENTS} + id % {RESIDENTS} + 1 AS resident) r
    """), {"communities": city.communities, "first": city.requests + 1, "last": city.messages})


def _secondary_indexes(conn) -> list[str]:
    """CREATE INDEX statements of the big tables' plain (non-constraint) indexes."""
    return list(conn.execute(text(
        "SELECT i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename = ANY(:t) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"),
        {"t": list(BIG_TABLES)}).scalars())


def generate(engine, city: City, log=print) -> dict[str, float]:
    """Fill an empty, migrated schema with ``city``; returns the seconds each step took."""
    steps: dict[str, float] = {}

    def step(name, fn, *args):
        start = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL synchronous_commit = off"))
            # Foreign keys are not checked during the load (requests point at messages written later);
            # a superuser setting, which a private benchmark server has.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            fn(conn, *args)
        steps[name] = time.perf_counter() - start
        log(f"  {name}: {steps[name]:.1f} s")

    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.42)"))
        indexes = _secondary_indexes(conn)
        for definition in indexes:
            conn.execute(text("DROP INDEX " + definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0]))
    step("organisation", _org, city)
    step("requests", _requests, city)
    step("clocks and timeline", _clocks_and_events, city)
    step("messages", _messages, city)

    def rebuild(conn):
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        for definition in indexes:
            conn.execute(text(definition))
        for table in ("street", "community", "grid", "building", "resident_group", "staff", "resident",
                      "message", "service_request", "request_event", "reply_clock"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT coalesce(max(id), 1) FROM {table}))"))

    step("indexes", rebuild)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        start = time.perf_counter()
        conn.execute(text("VACUUM ANALYZE"))
        steps["vacuum analyze"] = time.perf_counter() - start
        log(f"  vacuum analyze: {steps['vacuum analyze']:.1f} s")
    return steps
