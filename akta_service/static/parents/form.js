/* Checks as the parent types. Only a help: the server checks every rule again. */
(function () {
  "use strict";

  function digits(value) { return (value || "").replace(/\D/g, ""); }

  function say(input, message) {
    var live = document.getElementById("live-" + input.id);
    if (live && live.textContent !== message) { live.textContent = message; }
  }

  function two(number) { return (number < 10 ? "0" : "") + number; }

  function today() {
    var now = new Date();
    return now.getFullYear() + "-" + two(now.getMonth() + 1) + "-" + two(now.getDate());
  }

  /* Digits 7-12 of a NIK are the birth date DDMMYY; women have 40 added to the day. */
  function nikAgrees(nik, birthDate, sex) {
    var day = parseInt(nik.slice(6, 8), 10);
    var female = day > 40;
    if (female) { day -= 40; }
    if ((sex === "female") !== female) { return false; }
    var parts = (birthDate || "").split("-");
    if (parts.length !== 3 || parts[0].length !== 4) { return true; }
    return day === parseInt(parts[2], 10) &&
      nik.slice(8, 10) === parts[1] && nik.slice(10, 12) === parts[0].slice(2);
  }

  function check(input) {
    var kind = input.getAttribute("data-check");
    var value = input.value.trim();
    if (!value) { say(input, ""); return; }
    if (kind === "nik" || kind === "digits16") {
      var number = digits(value);
      if (number.length !== 16 || /[^\d\s.\-]/.test(value)) {
        say(input, input.getAttribute("data-message"));
        return;
      }
      var dateInput = document.getElementById(input.getAttribute("data-nik-date") || "");
      if (dateInput && !nikAgrees(number, dateInput.value, input.getAttribute("data-nik-sex"))) {
        say(input, input.getAttribute("data-mismatch"));
        return;
      }
      say(input, "");
    } else if (kind === "not-future") {
      say(input, /^\d{4}-\d{2}-\d{2}$/.test(value) && value > today() ? input.getAttribute("data-message") : "");
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.setAttribute("data-scripted", "");
    var inputs = document.querySelectorAll("[data-check]");
    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("blur", function () { check(input); });
      input.addEventListener("change", function () { check(input); });
      var dateInput = document.getElementById(input.getAttribute("data-nik-date") || "");
      if (dateInput) { dateInput.addEventListener("change", function () { check(input); }); }
    });
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
    fatherFollowsMarriage();
    keepTypedAcrossLanguage();
    confirmRemovals();
    uploadOnChoosing();
  });

  /* With JavaScript a picked file is sent at once, with its own "Unggah" button. */
  function uploadOnChoosing() {
    var form = document.getElementById("documents-form");
    if (!form || !form.requestSubmit) { return; }
    var inputs = form.querySelectorAll('input[type="file"]');
    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("change", function () {
        if (!input.files || !input.files.length) { return; }
        var kind = input.id.replace(/^file-/, "");
        var button = form.querySelector('button[value="upload:' + kind + '"]');
        if (button) { form.requestSubmit(button); }
      });
    });
  }

  /* The father's fields are hidden (and not sent) while "Tidak menikah" is chosen; the
     server sets them aside too, so without JavaScript nothing changes but the looks. */
  function fatherFollowsMarriage() {
    var group = document.getElementById("group-father");
    var choices = document.querySelectorAll('input[name="marriage.situation"]');
    if (!group || !choices.length) { return; }
    function update() {
      var single = document.getElementById("f-marriage-situation-not_married");
      var hide = !!(single && single.checked);
      group.hidden = hide;
      Array.prototype.forEach.call(group.querySelectorAll("input"), function (input) {
        input.disabled = hide;
      });
    }
    Array.prototype.forEach.call(choices, function (choice) {
      choice.addEventListener("change", update);
    });
    update();
  }

  /* Switching language reloads the page: what was typed but not yet saved comes along. */
  var TYPED = "akta-typed:" + location.pathname;

  function keepTypedAcrossLanguage() {
    var form = document.querySelector("form.report-form");
    if (!form || !window.sessionStorage) { return; }
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(TYPED) || "null"); } catch (e) { saved = null; }
    sessionStorage.removeItem(TYPED);
    if (saved) {
      Object.keys(saved).forEach(function (name) {
        Array.prototype.forEach.call(form.elements, function (el) {
          if (el.name !== name) { return; }
          if (el.type === "radio") { el.checked = el.value === saved[name]; }
          else { el.value = saved[name]; }
        });
      });
      fatherFollowsMarriage();
    }
    var links = document.querySelectorAll(".language a");
    Array.prototype.forEach.call(links, function (link) {
      link.addEventListener("click", function () {
        var typed = {};
        Array.prototype.forEach.call(form.elements, function (el) {
          if (!el.name || el.type === "hidden" || el.type === "file" || el.type === "submit") { return; }
          if (el.type === "radio") { if (el.checked) { typed[el.name] = el.value; } return; }
          typed[el.name] = el.value;
        });
        try { sessionStorage.setItem(TYPED, JSON.stringify(typed)); } catch (e) { /* full */ }
      });
    });
  }

  /* Removing a document asks first; without JavaScript the server's confirm page does. */
  function confirmRemovals() {
    var buttons = document.querySelectorAll("button[data-confirm]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); return; }
        var sure = document.createElement("input");
        sure.type = "hidden"; sure.name = "confirmed"; sure.value = "yes";
        button.form.appendChild(sure);
      });
    });
  }
})();
