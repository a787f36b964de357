/* Progressive enhancement only: every form works without this file.
   1. Province/region lists follow the chosen country.
   2. ISCO-08 search-as-you-type picker (ARIA combobox), fed by the office's own server: works offline. */
(function () {
  "use strict";

  function subdivisionLoaders() {
    document.querySelectorAll("[data-subdivision-for]").forEach(function (wrapper) {
      var country = wrapper.querySelector("select");
      var target = document.getElementById(wrapper.dataset.subdivisionTarget || "subdivision");
      if (!country || !target) { return; }
      country.addEventListener("change", function () {
        fetch("/codes/subdivisions/" + encodeURIComponent(country.value) + ".json", {credentials: "same-origin"})
          .then(function (response) { return response.ok ? response.json() : []; })
          .then(function (items) {
            target.innerHTML = "";
            target.appendChild(new Option("—", ""));
            items.forEach(function (item) { target.appendChild(new Option(item.name + " (" + item.code + ")", item.code)); });
          });
      });
    });
  }

  var iscoPromise = null;
  function loadIsco() {
    if (!iscoPromise) {
      iscoPromise = fetch("/codes/isco.json", {credentials: "same-origin"}).then(function (r) { return r.json(); });
    }
    return iscoPromise;
  }

  function matches(groups, query, mode) {
    var q = query.trim().toLowerCase();
    if (!q) { return []; }
    var words = q.split(/\s+/);
    var found = groups.filter(function (g) {
      if (mode !== "any" && g.level !== 4) { return false; }
      if (/^\d+$/.test(q)) { return g.code.indexOf(q) === 0; }
      var title = g.title.toLowerCase();
      return words.every(function (w) { return title.indexOf(w) !== -1; });
    });
    return found.slice(0, 12);
  }

  function picker(input) {
    var mode = input.dataset.iscoPicker;
    var list = document.createElement("ul");
    list.id = input.id + "-options";
    list.className = "picker";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    var chosen = document.createElement("small");
    chosen.className = "picked";
    chosen.setAttribute("aria-live", "polite");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.removeAttribute("maxlength");
    input.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", chosen);
    var groups = [], options = [], active = -1;

    function term() { return mode === "multi" ? input.value.split(/[\s,]+/).pop() : input.value; }
    function describe() {
      if (mode === "multi") { chosen.textContent = ""; return; }
      var g = groups.filter(function (x) { return x.code === input.value.trim(); })[0];
      chosen.textContent = g ? g.code + " — " + g.title : "";
    }
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; }
    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, n) { li.setAttribute("aria-selected", n === i ? "true" : "false"); });
      if (list.children[i]) { input.setAttribute("aria-activedescendant", list.children[i].id); list.children[i].scrollIntoView({block: "nearest"}); }
    }
    function pick(g) {
      if (mode === "multi") {
        var parts = input.value.split(/[\s,]+/).filter(Boolean);
        parts.pop();
        parts.push(g.code);
        input.value = parts.join(" ") + " ";
      } else {
        input.value = g.code;
      }
      close();
      describe();
    }
    function render() {
      options = matches(groups, term(), mode);
      list.innerHTML = "";
      options.forEach(function (g, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.textContent = g.code + " — " + g.title;
        li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(g); });
        list.appendChild(li);
      });
      list.hidden = options.length === 0;
      input.setAttribute("aria-expanded", options.length ? "true" : "false");
      if (options.length) { highlight(0); }
    }
    input.addEventListener("input", render);
    input.addEventListener("blur", function () { setTimeout(close, 100); describe(); });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) { return; }
      if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(active + 1, options.length - 1)); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (e.key === "Enter" && active >= 0) { e.preventDefault(); pick(options[active]); }
      else if (e.key === "Escape") { close(); }
    });
    loadIsco().then(function (data) { groups = data; describe(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    subdivisionLoaders();
    document.querySelectorAll("[data-isco-picker]").forEach(picker);
  });
})();
