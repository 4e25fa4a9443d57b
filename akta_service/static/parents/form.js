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
    var inputs = document.querySelectorAll("[data-check]");
    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("blur", function () { check(input); });
      input.addEventListener("change", function () { check(input); });
      var dateInput = document.getElementById(input.getAttribute("data-nik-date") || "");
      if (dateInput) { dateInput.addEventListener("change", function () { check(input); }); }
    });
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
