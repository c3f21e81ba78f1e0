// A tiny helper to build DOM without a framework: el("button", {id: "x", onclick}, "Text").

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, "");
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c != null && c !== false) e.append(c);
  }
  return e;
}

/** Shows or hides an element (the hidden attribute, which the stylesheet honours). */
export function show(e, visible) {
  e.hidden = !visible;
}
