#pragma once

#include <string_view>

namespace tastesync {

// The live floor view (docs/contract.md#floor): one page, its script inline, no outside
// resources. It follows /floor/events (Server-Sent Events) with the same query string (store,
// token) and redraws each store's locations from every snapshot it receives.
inline constexpr std::string_view kFloorPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tastesync floor</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1rem; background: #fafafa; color: #222; }
h1 { font-size: 1.2rem; } h2 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.floor { display: flex; flex-wrap: wrap; gap: .6rem; }
.location { background: #fff; border: 1px solid #ccc; border-radius: 6px; padding: .5rem .7rem;
            min-width: 9rem; }
.location.entrance { border-color: #4a7; } .location.counter { border-color: #a74; }
.location h3 { font-size: .95rem; margin: 0 0 .3rem; }
.location .type { color: #777; font-size: .75rem; }
.customer { font-family: ui-monospace, monospace; font-size: .85rem; }
.since { color: #777; font-size: .75rem; }
#status { color: #777; font-size: .8rem; }
</style>
</head>
<body>
<h1>Who is where</h1>
<div id="status">connecting…</div>
<div id="stores"></div>
<script>
"use strict";
const stores = document.getElementById("stores");
const status = document.getElementById("status");
function text(tag, className, value) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  element.textContent = value;
  return element;
}
function time(iso) {
  const when = new Date(iso);
  return isNaN(when) ? iso : when.toLocaleTimeString();
}
function draw(snapshot) {
  stores.replaceChildren();
  for (const store of snapshot.stores) {
    const section = document.createElement("section");
    section.dataset.store = store.store_id;
    section.append(text("h2", "", store.store_id));
    const floor = text("div", "floor", "");
    for (const location of store.locations) {
      const box = text("div", "location " + location.type, "");
      box.dataset.location = location.name;
      box.append(text("h3", "", location.name), text("div", "type", location.type));
      for (const customer of location.customers) {
        const line = text("div", "customer", customer.id);
        line.dataset.customer = customer.id;
        line.append(" ", text("span", "since", "since " + time(customer.since)));
        box.append(line);
      }
      floor.append(box);
    }
    section.append(floor);
    stores.append(section);
  }
  status.textContent = "live · updated " + new Date().toLocaleTimeString();
}
const events = new EventSource("/floor/events" + window.location.search);
events.onmessage = (message) => draw(JSON.parse(message.data));
events.onerror = () => { status.textContent = "reconnecting…"; };
</script>
</body>
</html>
)html";

}  // namespace tastesync
