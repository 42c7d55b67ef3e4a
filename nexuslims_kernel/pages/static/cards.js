// Result cards and thumbnail galleries. Text from records goes in with textContent (never innerHTML).
function safeHref(href) {
  return typeof href === "string" && !/^\s*(javascript|data|vbscript):/i.test(href) ? href : "#";
}

function text(tag, cls, value) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  node.textContent = value == null ? "" : String(value);
  return node;
}

function thumb(src, alt) {
  const box = document.createElement("div");
  box.className = "nx-thumb";
  if (src) {
    const img = document.createElement("img");
    img.loading = "lazy";
    img.decoding = "async";
    img.alt = alt || "";
    img.src = safeHref(src);
    img.onerror = () => { box.classList.add("nx-thumb-missing"); img.remove(); };
    box.appendChild(img);
  } else {
    box.classList.add("nx-thumb-missing");
  }
  return box;
}

function card(item, model) {
  const a = document.createElement("a");
  a.className = "nx-card" + (item.id === model.get("selected") ? " nx-selected" : "");
  a.dataset.id = item.id;
  a.href = safeHref(item.href || "#");
  if (item.target) a.target = item.target;
  a.appendChild(thumb(item.src, item.title));
  const body = document.createElement("div");
  body.className = "nx-card-body";
  body.appendChild(text("div", "nx-card-title", item.title));
  for (const line of item.lines || []) body.appendChild(text("div", "nx-card-line", line));
  const tags = document.createElement("div");
  tags.className = "nx-tags";
  for (const tag of item.tags || []) tags.appendChild(text("span", "nx-tag", tag));
  body.appendChild(tags);
  a.appendChild(body);
  if (!item.href) {
    a.addEventListener("click", (ev) => {
      ev.preventDefault();
      model.set("selected", item.id);
      model.save_changes();
    });
  }
  return a;
}

export default {
  render({ model, el }) {
    el.classList.add("nx-cards-host");
    const draw = () => {
      el.replaceChildren();
      const grid = document.createElement("div");
      grid.className = "nx-cards nx-layout-" + model.get("layout");
      const items = model.get("items") || [];
      for (const item of items) grid.appendChild(card(item, model));
      if (!items.length) grid.appendChild(text("div", "nx-empty", model.get("empty_text")));
      el.appendChild(grid);
    };
    model.on("change:items", draw);
    model.on("change:selected", draw);
    model.on("change:layout", draw);
    draw();
  },
};
