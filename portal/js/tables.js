// Tables paged on the client whose columns sort: a click (or Enter) on a heading sorts by it,
// a second one reverses; ties keep the default order (the page's, or its ``sort``), so equal rows
// never shuffle. The pager names the page and the total.
//
// columns: [heading, row => text or Node, sortKey?]. A column sorts by ``sortKey(row)`` when
// given, by the cell's text when the cell is text or a plain node (a link, a badge), and not at
// all when ``sortKey`` is false or the cell holds controls (buttons, inputs).

import { clear, h } from "./ui.js";

const COLLATOR = new Intl.Collator("zh-CN", { numeric: true, sensitivity: "base" });
const NUMBER = /^-?\d+(?:\.\d+)?%?$/;

// Numbers (also "95.0%") compare as numbers, everything else in Chinese collation order
// (names by pinyin); empty cells go last whichever way the column is sorted.
export function compareValues(a, b) {
  const left = a === null || a === undefined ? "" : String(a).trim();
  const right = b === null || b === undefined ? "" : String(b).trim();
  if (left === "" || right === "") return left === right ? 0 : left === "" ? 1 : -1;
  if (NUMBER.test(left) && NUMBER.test(right)) return parseFloat(left) - parseFloat(right);
  return COLLATOR.compare(left, right);
}

function cellText(value) {
  if (value instanceof Node) {
    if (value.matches?.("button, input, select, textarea") || value.querySelector?.("button, input, select, textarea")) return undefined;
    return value.textContent;
  }
  return value === null || value === undefined ? "" : String(value);
}

// The sort key of each column, or null where the column does not sort.
function sortKeys(columns, rows) {
  return columns.map(([heading, cell, key]) => {
    if (key === false || !heading) return null;
    if (typeof key === "function") return key;
    if (!rows.length || cellText(cell(rows[0])) === undefined) return null;
    // A column empty on its first rows (actions this account may not take) offers nothing to sort.
    if (!rows.slice(0, 20).some((row) => cellText(cell(row)))) return null;
    return (row) => cellText(cell(row)) ?? "";
  });
}

function sorted(rows, key, descending) {
  const keyed = rows.map((row, index) => [key(row), index, row]);
  keyed.sort((a, b) => {
    const order = compareValues(a[0], b[0]);
    if (order === 0) return a[1] - b[1];
    const emptyLast = a[0] === "" || a[0] === null || a[0] === undefined || b[0] === "" || b[0] === null || b[0] === undefined;
    return descending && !emptyLast ? -order : order;
  });
  return keyed.map(([, , row]) => row);
}

function heading(label, key, state, index, onSort) {
  // A column of row actions has no visible heading; screen readers still hear what it holds.
  if (!label) return h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "操作"));
  if (!key) return h("th", { scope: "col" }, label);
  const current = state.column === index;
  const direction = current ? (state.descending ? "descending" : "ascending") : "none";
  const sort = () => onSort(index);
  return h("th", {
    scope: "col", class: "sortable", tabindex: "0", "aria-sort": direction, "data-sort": direction,
    title: current && !state.descending ? "点击按此列从大到小排序" : "点击按此列从小到大排序",
    onclick: sort,
    onkeydown: (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        sort();
      }
    },
  }, label, h("span", { class: "sort-mark", "aria-hidden": "true" }, current ? (state.descending ? " ▼" : " ▲") : " ↕"));
}

// ``sort``: the default order, {column: heading or index, descending}; without it, the rows'
// order. ``partial``: the rows are one page of a longer list the server pages, so the total
// says "本页" instead of "共".
export function pagedTable(columns, rows, { pageSize = 20, empty = "没有记录", caption, sort, partial = false } = {}) {
  const wrap = h("div", { class: "table-wrap" });
  const keys = sortKeys(columns, rows);
  const start = sort ? (typeof sort.column === "number" ? sort.column : columns.findIndex(([label]) => label === sort.column)) : -1;
  const state = { column: start >= 0 && keys[start] ? start : null, descending: Boolean(sort && sort.descending) };
  // Rows in the default order: ties of any later sort keep it.
  const base = state.column === null ? rows : sorted(rows, keys[state.column], state.descending);
  let page = 0;
  const pages = Math.max(1, Math.ceil(rows.length / pageSize));
  const onSort = (index) => {
    state.descending = state.column === index ? !state.descending : false;
    state.column = index;
    page = 0;
    draw(index);
  };
  const draw = (focusColumn) => {
    const ordered = state.column === null ? base : sorted(base, keys[state.column], state.descending);
    const shown = ordered.slice(page * pageSize, (page + 1) * pageSize);
    const table = h("table", {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map(([label], i) => heading(label, keys[i], state, i, onSort)))),
      h("tbody", {}, shown.length
        ? shown.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row) ?? ""))))
        : h("tr", {}, h("td", { colspan: String(columns.length), class: "empty" }, empty))));
    clear(wrap, table, pager(rows.length, page, pages, partial, (to) => ((page = to), draw())));
    // Sorting redraws the table: the heading just used keeps the keyboard focus.
    if (focusColumn !== undefined) table.querySelectorAll("th")[focusColumn]?.focus();
  };
  draw();
  return wrap;
}

function pager(total, page, pages, partial, go) {
  if (!total) return null;
  const count = partial ? `本页 ${total} 条` : `共 ${total} 条`;
  if (pages <= 1) return h("p", { class: "table-total", "data-total": String(total) }, count);
  return h("nav", { class: "pager", "aria-label": "分页" },
    h("button", { type: "button", disabled: page === 0, onclick: () => go(page - 1), "aria-label": "上一页" }, "上一页"),
    h("span", { class: "table-total", "data-total": String(total) }, `第 ${page + 1} / ${pages} 页，${count}`),
    h("button", { type: "button", disabled: page >= pages - 1, onclick: () => go(page + 1), "aria-label": "下一页" }, "下一页"));
}
