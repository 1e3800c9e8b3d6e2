// aedex officers' UI keyboard shortcuts (a static file: the CSP allows no inline script).
// j / k move the focus between queue rows, Enter opens the focused row's item,
// n takes the next task (submits the "Take next" form, which carries the CSRF token).
// On a case page, r / d / i / h / s select a decision (the radio button with that
// data-key) and focus the submit button, so Enter submits; nothing submits by itself.
// Escape or u goes back to the queue.
"use strict";

(function () {
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr.task"));
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || (target && target.isContentEditable);
  }

  function move(step) {
    var all = rows();
    if (all.length === 0) {
      return;
    }
    var at = all.indexOf(document.activeElement);
    var next = at < 0 ? 0 : Math.min(Math.max(at + step, 0), all.length - 1);
    all[next].focus();
  }

  function choose(key) {
    var form = document.getElementById("decision");
    if (!form) {
      return false;
    }
    var radio = form.querySelector('input[type="radio"][data-key="' + key + '"]');
    if (!radio) {
      return false;
    }
    radio.checked = true;
    var submit = document.getElementById("decide");
    if (submit) {
      submit.focus();
    }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    var onCase = document.querySelector("section.case-head") !== null;
    if (onCase) {
      if (event.key === "Escape" || event.key === "u") {
        window.location.assign("/ui/queue");
        event.preventDefault();
      } else if (event.key.length === 1 && "rdihs".indexOf(event.key) >= 0 && choose(event.key)) {
        event.preventDefault();
      }
      return;
    }
    if (event.key === "j") {
      move(1);
    } else if (event.key === "k") {
      move(-1);
    } else if (event.key === "Enter" && rows().indexOf(document.activeElement) >= 0) {
      var link = document.activeElement.querySelector("a.open");
      if (link) {
        window.location.assign(link.href);
      }
    } else if (event.key === "n") {
      var form = document.getElementById("take-next");
      if (form) {
        form.submit();
      }
    } else {
      return;
    }
    event.preventDefault();
  });
})();

// The queue's count of waiting tasks stays live: asked again every 15 s (same origin, the
// session cookie; a failed request leaves the last count shown).
(function () {
  var count = document.getElementById("waiting");
  if (!count || !count.dataset.live || !window.fetch) {
    return;
  }
  window.setInterval(function () {
    fetch(count.dataset.live, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (body) {
        if (body && typeof body.waiting === "number") {
          count.textContent = String(body.waiting);
        }
      })
      .catch(function () {});
  }, 15000);
})();
