/**
 * The docs site's search page (bundled into assets/search.js): loads the minisearch index built at generate time
 * (assets/search-index.js sets `window.OPENFLOW_SEARCH`) and lists the matches of `?q=` and of what is typed.
 * Prefix and a little fuzzy matching, titles weigh three times the text.
 */
import MiniSearch, { type Options } from "minisearch";

interface Stored {
  title: string;
  url: string;
  kind: string;
  excerpt: string;
}

declare global {
  interface Window {
    OPENFLOW_SEARCH?: { options: Options<Stored>; index: unknown };
  }
}

function start(): void {
  const data = window.OPENFLOW_SEARCH;
  const input = document.getElementById("q") as HTMLInputElement | null;
  const list = document.getElementById("results");
  const count = document.getElementById("count");
  if (!data || !input || !list || !count) return;
  const index = MiniSearch.loadJSON<Stored>(JSON.stringify(data.index), data.options);
  const show = (): void => {
    const query = input.value.trim();
    list.replaceChildren();
    if (query === "") {
      count.textContent = "";
      return;
    }
    const hits = index.search(query, { prefix: true, fuzzy: 0.15, combineWith: "AND", boost: { title: 3 } }).slice(0, 50);
    count.textContent = hits.length === 0 ? "Nothing matches." : `${hits.length}${hits.length === 50 ? "+" : ""} matches`;
    for (const hit of hits) {
      const stored = hit as unknown as Stored;
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = stored.url;
      link.textContent = stored.title;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = stored.kind;
      const excerpt = document.createElement("span");
      excerpt.className = "excerpt";
      excerpt.textContent = stored.excerpt;
      item.append(link, kind, excerpt);
      list.append(item);
    }
  };
  input.value = new URLSearchParams(location.search).get("q") ?? "";
  input.addEventListener("input", () => {
    const url = new URL(location.href);
    url.searchParams.set("q", input.value);
    history.replaceState(null, "", url);
    show();
  });
  show();
}

start();
