// Keyboard shortcuts of the review page: a letter presses the panel's button that names it
// (data-key), unless the clerk is typing. A button's form still asks for its reason and
// confirmation: the shortcut only moves the focus there when the form needs them.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) {
      return;
    }
    var target = event.target;
    if (target && target.closest && target.closest("input, textarea, select, [contenteditable]")) {
      return;
    }
    var button = document.querySelector('#action-panel button[data-key="' + event.key + '"]');
    if (!button) {
      return;
    }
    event.preventDefault();
    var form = button.form;
    var first = form && form.querySelector("textarea, input:not([type=hidden])");
    if (first) {
      first.focus();
      return;
    }
    if (form && form.requestSubmit) {
      form.requestSubmit(button);
    } else {
      button.click();
    }
  });
})();
