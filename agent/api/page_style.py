"""The status page's stylesheet, inlined into every page (no external assets)."""

from __future__ import annotations

STYLE = """
:root{--ok:#1a7f37;--ticket:#b35900;--page:#c62828;--exhausted:#7b1fa2;--nodata:#6e7781;
--muted:#5f6b7a;--line:#d8dee4;
--bg:#f6f8fa;--card:#fff;--ink:#1f2328}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
background:var(--bg);color:var(--ink)}
header,main,footer,.banner{max-width:1280px;margin:0 auto;padding:0 16px}
header{padding-top:12px}
h1{font-size:22px;margin:8px 0 2px}
h2{font-size:17px;margin:22px 0 8px}
h2 small,h3 small{font-weight:400;color:var(--muted);font-size:13px}
h3{font-size:15px;margin:0 0 2px;display:flex;gap:8px;align-items:center}
.name{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.card{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--ok);
border-radius:6px;padding:10px 12px;margin:0 0 10px}
.card.state-ticket{border-left-color:var(--ticket)}
.card.state-page{border-left-color:var(--page)}
.card.state-exhausted{border-left-color:var(--exhausted)}
.card.state-no_data{border-left-color:var(--nodata)}
.who{color:var(--muted);margin:0 0 6px}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:4px 6px;border-top:1px solid var(--line);vertical-align:top}
thead th{border-top:0;color:var(--muted);font-weight:500;font-size:12px}
caption{text-align:left;color:var(--muted);font-size:12px;padding:8px 0 2px}
.badge{display:inline-block;padding:0 7px;border-radius:10px;font-size:12px;font-weight:600;
color:#fff;background:var(--ok)}
.badge.ticket{background:var(--ticket)}
.badge.page{background:var(--page)}
.badge.exhausted{background:var(--exhausted)}
.badge.no_data{background:var(--nodata)}
.badge.none{background:#e6eaef;color:var(--muted)}
.badge.pending{background:#fff4e5;color:var(--ticket);border:1px solid var(--ticket)}
.bar{position:relative;width:160px;height:10px;background:#e6eaef;border-radius:5px;
overflow:hidden;display:inline-block;vertical-align:middle;margin-right:6px}
.fill{position:absolute;left:0;top:0;bottom:0;background:var(--ok)}
.budget.low .fill{background:#d4a017}
.budget.critical .fill,.share .fill{background:var(--page)}
.budget.overspent .bar{background:repeating-linear-gradient(45deg,#f4c7c3 0 6px,#fbe3e1 6px 12px)}
.budget.overspent span:last-child{color:var(--page);font-weight:600}
.budget.nodata span{color:var(--muted)}
.budget,.slos td:nth-child(3){white-space:nowrap}
.burns{display:flex;flex-wrap:wrap;gap:2px 8px;font-size:12px;max-width:260px}
.burn b{font-weight:500;color:var(--muted)}
.burn.hot{color:var(--page);font-weight:600}
.tiers{margin:2px 0 0;padding-left:16px;font-size:12px}
.exhaust{margin:2px 0 0;font-size:12px;color:var(--page)}
.empty{color:var(--muted)}
.banner{background:#fff4e5;border:1px solid var(--ticket);border-radius:6px;padding:8px 12px;
margin-top:10px}
.pending{color:var(--ticket)}
.decisions ul{margin:0;padding-left:16px}
footer{color:var(--muted);padding-bottom:24px}
footer h2{font-size:14px}
.endpoints{margin:0;padding-left:18px}
a{color:#0b5cad}
"""
