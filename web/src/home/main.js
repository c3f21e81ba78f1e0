// The home page: create a room (in the default environment or one of the scenes), or go back to one of your
// recent rooms; sign in (the rooms you then create are yours to change and moderate, and you can upload scenes).
import "./home.css";
import { Socket } from "phoenix";
import { AccountBox } from "../shared/account-view.js";
import { loadCredentials } from "../shared/account.js";
import { api, recentRooms } from "../shared/api.js";
import { mountScenes } from "./scenes.js";

const app = document.getElementById("app");

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function render() {
  const name = el("input", { id: "room-name", name: "name", maxlength: "64", required: "", placeholder: "Room name", autocomplete: "off" });
  const status = el("p", { id: "create-status", class: "status", role: "status" });
  const button = el("button", { id: "create-room", type: "submit" }, "Create room");
  /** Creates a room (with a scene when sceneId is given) and goes there; a refusal is said under the form. */
  async function createRoom(sceneId = "", sceneName = "") {
    button.disabled = true;
    status.textContent = "Creating the room…";
    status.classList.remove("error");
    const hub = { name: name.value.trim() || sceneName || "" };
    if (sceneId) hub.scene_id = sceneId;
    try {
      const res = await api("/api/v1/hubs", { method: "POST", body: JSON.stringify({ hub }) });
      sessionStorage.setItem(`toncon.creator.${res.hub_id}`, res.creator_assignment_token || "");
      location.assign(new URL(res.url).pathname);
    } catch (err) {
      status.textContent = `Could not create the room: ${err.message}`;
      status.classList.add("error");
      button.disabled = false;
    }
  }
  const form = el("form", { id: "create-form", onsubmit: (ev) => {
    ev.preventDefault();
    createRoom();
  } }, el("label", { for: "room-name" }, "Give your room a name"), el("div", { class: "row" }, name, button), status);
  const scenes = mountScenes({ createRoom });

  const recent = recentRooms();
  const list = el("ul", { id: "recent-rooms" });
  for (const r of recent) {
    list.append(el("li", {}, el("a", { href: new URL(r.url, location.href).pathname }, r.name || r.hub_id)));
  }
  let socket = null; // opened only to ask for a sign-in link
  const hint = "Sign in to own the rooms you create: you can then change their settings and moderate them.";
  const account = new AccountBox({
    socket: () => (socket ??= new Socket("/socket", {})),
    release: () => {
      socket?.disconnect();
      socket = null;
    },
    hint: loadCredentials() ? "" : hint,
    onChange: (c) => {
      account.setHint(c ? "" : hint);
      scenes.setSignedIn(!!c);
    },
  });

  const footer = el("footer", { id: "version" }, "toncon");
  api("/api/v1/meta").then((m) => { footer.textContent = `toncon ${m.version}`; }).catch(() => {});

  app.replaceChildren(
    el("h1", {}, "toncon"),
    el("p", { class: "lead" }, "Meet in a 3D room in your browser: walk around as an avatar and talk."),
    form,
    el("section", { id: "home-account" }, el("h2", {}, "Your account"), account.element),
    el("section", {}, el("h2", {}, "Your recent rooms"), recent.length ? list : el("p", { id: "no-recent" }, "Rooms you visit show up here.")),
    scenes.element,
    footer,
  );
  name.focus();
}

render();
