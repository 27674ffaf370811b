/* Accessible names and keyboard access for what Material and the notebook
   renderer create without them:
   - the code annotation markers (links whose only content is an icon) get
     a name, "Annotation 1", ...;
   - code and output areas of notebook cells that scroll sideways become
     focusable, so that keyboard users can scroll them.
   Runs again whenever the page changes (instant navigation, annotations
   mounted late). */
(function () {
  "use strict";

  var SCROLLERS = {
    ".md-typeset__scrollwrap": "Table",
    ".jupyter-wrapper .highlight-ipynb": "Cell code",
    ".jupyter-wrapper .jp-OutputArea-output pre": "Cell output"
  };

  function nameAnnotations(root) {
    var links = root.querySelectorAll(
      "a.md-annotation__index:not([aria-label])"
    );
    links.forEach(function (link) {
      var id = link.querySelector("[data-md-annotation-id]");
      var n = id ? id.getAttribute("data-md-annotation-id") : "";
      link.setAttribute("aria-label", "Annotation " + n);
    });
  }

  function focusScrollers(root) {
    Object.keys(SCROLLERS).forEach(function (selector) {
      root.querySelectorAll(selector).forEach(function (el) {
        if (el.scrollWidth > el.clientWidth + 1) {
          el.setAttribute("tabindex", "0");
          el.setAttribute("role", "region");
          el.setAttribute("aria-label", SCROLLERS[selector]);
        } else if (el.getAttribute("tabindex") === "0") {
          el.removeAttribute("tabindex");
          el.removeAttribute("role");
          el.removeAttribute("aria-label");
        }
      });
    });
  }

  function update() {
    nameAnnotations(document);
    focusScrollers(document);
  }

  var pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      update();
    });
  }

  new MutationObserver(schedule).observe(document.body, {
    childList: true,
    subtree: true
  });
  window.addEventListener("resize", schedule);
  update();
})();
