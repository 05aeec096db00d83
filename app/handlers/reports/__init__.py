"""Reports over the domains: the public progress board (督办墙), the dashboard's statistics and
their .xlsx exports, and the record of messages sent.

Read-only queries that combine requests, reply clocks and proxy-handling cases; the web pages
(app/web) render them and hold no logic of their own. An L4 package: it may use every domain.
"""
