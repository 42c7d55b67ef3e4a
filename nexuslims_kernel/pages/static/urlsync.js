// Mirrors the page's search into the address bar (bookmarkable, shareable) without reloading.
export default {
  render({ model, el }) {
    el.style.display = "none";
    const apply = () => {
      const q = model.get("query");
      const url = new URL(window.location.href);
      url.search = q ? "?" + q : "";
      if (url.href !== window.location.href) window.history.replaceState(null, "", url.href);
    };
    model.on("change:query", apply);
    apply();
  },
};
