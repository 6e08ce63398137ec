/*
 * Chatwerkstatt - floating chat button for the website of a town.
 *
 * Embedded as
 *   <script src="https://HOST/widget.js"
 *           data-chat="https://HOST/w/standard/musterstadt-buergerservice/"
 *           data-title="Digitaler B&uuml;rgerservice" data-color="#005a9c" defer></script>
 *
 * Adds a round button at the bottom right that opens a panel with the chat page of the bot in
 * an iframe. Plain ES2017 without dependencies; it makes no request of its own: the iframe is
 * created on the first click, so a visitor who never opens the chat never contacts the chat
 * server (data protection). No cookies, no storage, no innerHTML.
 *
 * data-chat   chat page of the bot (relative addresses count from widget.js, not the page)
 * data-title  name of the assistant, shown in the panel header (default "Chat")
 * data-color  #rrggbb for button and header (default #005a9c); the text on it is white, or
 *             black when white would not reach a contrast of 4.5:1
 *
 * The chat page can ask to be closed (Escape inside the iframe never reaches this document):
 *   window.parent.postMessage("chatwerkstatt:close", "*")
 */
(function () {
  "use strict";

  var DEFAULT_COLOR = "#005a9c";
  var DEFAULT_TITLE = "Chat";
  var CLOSE_MESSAGE = "chatwerkstatt:close";
  // ASCII only in this file (escapes for umlauts): a host page in another encoding than UTF-8
  // would otherwise garble the texts when the server names no charset.
  var CLOSE_LABEL = "Chat schlie\u00dfen";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var CHAT_ICON = "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 "
    + "2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z";
  var CLOSE_ICON = "M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 "
    + "6.4 17.6 5 12 10.6z";

  // Loaded twice (a CMS that repeats the snippet): the first copy stays, the second does nothing.
  if (window.chatwerkstattWidget) {
    return;
  }

  // Only valid while this script runs for the first time, so it is read before anything waits.
  var script = document.currentScript || findOwnScript();
  if (!script) {
    return;
  }
  var chatUrl = chatAddress(script);
  if (!chatUrl) {
    warn("data-chat fehlt oder ist keine http(s)-Adresse; der Chat-Knopf wird nicht angezeigt.");
    return;
  }
  var title = (script.getAttribute("data-title") || "").trim() || DEFAULT_TITLE;
  var accent = brandColor(script.getAttribute("data-color"));
  var onAccent = textColorOn(accent);

  var api = { open: function () {}, close: function () {}, toggle: function () {} };
  window.chatwerkstattWidget = api;

  if (document.body) {
    build();
  } else {
    document.addEventListener("DOMContentLoaded", build);
  }

  function findOwnScript() {
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/widget\.js(?:[?#].*)?$/.test(scripts[i].src)) {
        return scripts[i];
      }
    }
    return null;
  }

  function chatAddress(element) {
    var raw = (element.getAttribute("data-chat") || "").trim();
    if (!raw) {
      return "";
    }
    try {
      var url = new URL(raw, element.src || document.baseURI);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : "";
    } catch (error) {
      return "";
    }
  }

  function brandColor(raw) {
    var value = (raw || "").trim();
    if (/^#[0-9a-fA-F]{6}$/.test(value)) {
      return value.toLowerCase();
    }
    if (value) {
      warn("data-color muss die Form #rrggbb haben; verwendet wird " + DEFAULT_COLOR + ".");
    }
    return DEFAULT_COLOR;
  }

  function relativeLuminance(hex) {
    var channels = [1, 3, 5].map(function (start) {
      var value = parseInt(hex.slice(start, start + 2), 16) / 255;
      return value <= 0.03928 ? value / 12.92 : Math.pow((value + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
  }

  function textColorOn(background) {
    var contrastWithWhite = 1.05 / (relativeLuminance(background) + 0.05);
    return contrastWithWhite >= 4.5 ? "#ffffff" : "#000000";
  }

  function warn(message) {
    if (window.console && console.warn) {
      console.warn("Chatwerkstatt-Widget: " + message);
    }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function icon(path) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("class", "cw-icon");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "24");
    svg.setAttribute("height", "24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var shape = document.createElementNS(SVG_NS, "path");
    shape.setAttribute("d", path);
    shape.setAttribute("fill", "currentColor");
    shape.setAttribute("fill-rule", "evenodd");
    svg.appendChild(shape);
    return svg;
  }

  function stylesheet() {
    var sr = "position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;"
      + "clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap;border:0;";
    var focus = "outline:3px solid #000000;outline-offset:3px;box-shadow:0 0 0 3px #ffffff;";
    var w = ".cw-widget ";
    return [
      ".cw-widget,.cw-widget *{box-sizing:border-box;}",
      ".cw-widget{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\","
        + "Arial,sans-serif;font-size:16px;line-height:1.4;color:#1a1a1a;}",
      w + ".cw-sr{" + sr + "}",
      w + ".cw-icon{display:block;flex:none;width:24px;height:24px;}",
      w + ".cw-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;"
        + "display:inline-flex;align-items:center;gap:10px;min-width:56px;min-height:56px;"
        + "margin:0;padding:0 22px 0 16px;border:2px solid transparent;border-radius:28px;"
        + "background:" + accent + ";color:" + onAccent + ";font:inherit;font-size:17px;"
        + "font-weight:600;line-height:1.2;letter-spacing:normal;text-transform:none;"
        + "cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.35);}",
      w + ".cw-launcher:hover .cw-launcher-label{text-decoration:underline;}",
      w + ".cw-panel{position:fixed;right:20px;bottom:88px;z-index:2147483001;display:flex;"
        + "flex-direction:column;width:400px;height:640px;max-width:calc(100vw - 40px);"
        + "max-height:calc(100vh - 108px);margin:0;padding:0;background:#ffffff;"
        + "border:1px solid #6b6b6b;border-radius:12px;box-shadow:0 8px 32px rgba(0,0,0,.35);"
        + "overflow:hidden;}",
      w + ".cw-panel[hidden]{display:none;}",
      w + ".cw-header{display:flex;flex:none;align-items:center;justify-content:space-between;"
        + "gap:8px;margin:0;padding:10px 10px 10px 16px;background:" + accent + ";color:"
        + onAccent + ";}",
      w + ".cw-title{margin:0;font-size:17px;font-weight:600;line-height:1.3;"
        + "overflow-wrap:anywhere;}",
      w + ".cw-close{display:inline-flex;flex:none;align-items:center;justify-content:center;"
        + "width:44px;height:44px;margin:0;padding:0;border:2px solid transparent;"
        + "border-radius:8px;background:transparent;color:" + onAccent + ";cursor:pointer;}",
      w + ".cw-close:hover{border-color:" + onAccent + ";}",
      w + ".cw-launcher:focus," + w + ".cw-close:focus{" + focus + "}",
      w + ".cw-frame{display:block;flex:1 1 auto;width:100%;min-height:0;margin:0;padding:0;"
        + "border:0;background:#ffffff;}",
      "@media (max-width:480px){"
        + w + ".cw-launcher{right:16px;bottom:16px;width:56px;height:56px;padding:0;"
        + "justify-content:center;border-radius:50%;}"
        + w + ".cw-launcher-label{" + sr + "}"
        + w + ".cw-panel{top:0;right:0;bottom:0;left:0;width:100vw;height:100vh;"
        + "height:100dvh;max-width:none;max-height:none;border:0;border-radius:0;}"
        + ".cw-widget.cw-is-open .cw-launcher{display:none;}"
        + "}",
      "@media print{.cw-widget{display:none;}}"
    ].join("\n");
  }

  function build() {
    var style = element("style", "cw-style");
    if (script.nonce) {
      style.nonce = script.nonce; // a host page with a nonce-based CSP allows our styles too
    }
    style.textContent = stylesheet();
    (document.head || document.documentElement).appendChild(style);

    var panelId = "cw-panel";
    var root = element("aside", "cw-widget");
    root.setAttribute("lang", "de");
    root.setAttribute("aria-label", "Chat: " + title);

    var launcher = element("button", "cw-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", panelId);
    launcher.appendChild(icon(CHAT_ICON));
    launcher.appendChild(element("span", "cw-launcher-label", "Fragen Sie uns"));
    launcher.appendChild(element("span", "cw-sr", " \u2013 Chat: " + title));

    var panel = element("div", "cw-panel");
    panel.id = panelId;
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-label", title);

    var header = element("div", "cw-header");
    var close = element("button", "cw-close");
    close.type = "button";
    close.title = CLOSE_LABEL;
    close.appendChild(icon(CLOSE_ICON));
    close.appendChild(element("span", "cw-sr", CLOSE_LABEL));
    header.appendChild(element("div", "cw-title", title));
    header.appendChild(close);
    panel.appendChild(header);

    root.appendChild(launcher);
    root.appendChild(panel);
    document.body.appendChild(root);

    var frame = null;

    function open() {
      if (!frame) {
        frame = element("iframe", "cw-frame");
        frame.title = "Chat: " + title;
        frame.setAttribute("allow", "clipboard-write");
        frame.src = chatUrl;
        panel.appendChild(frame);
      }
      panel.hidden = false;
      root.classList.add("cw-is-open");
      launcher.setAttribute("aria-expanded", "true");
      close.focus();
    }

    function closePanel(returnFocus) {
      if (panel.hidden) {
        return;
      }
      panel.hidden = true;
      root.classList.remove("cw-is-open");
      launcher.setAttribute("aria-expanded", "false");
      if (returnFocus) {
        launcher.focus();
      }
    }

    function toggle() {
      if (panel.hidden) {
        open();
      } else {
        closePanel(true);
      }
    }

    launcher.addEventListener("click", toggle);
    close.addEventListener("click", function () {
      closePanel(true);
    });
    // On the widget only: Escape elsewhere on the page belongs to the host's own menus.
    root.addEventListener("keydown", function (event) {
      if ((event.key === "Escape" || event.key === "Esc") && !panel.hidden) {
        event.preventDefault();
        closePanel(true);
      }
    });
    window.addEventListener("message", function (event) {
      if (frame && event.source === frame.contentWindow && event.data === CLOSE_MESSAGE) {
        closePanel(true);
      }
    });

    api.open = open;
    api.close = function () {
      closePanel(true);
    };
    api.toggle = toggle;
  }
})();
