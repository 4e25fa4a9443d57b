/* Starts Swagger UI on the API docs page with the settings the page carries. */
(function () {
  "use strict";
  window.addEventListener("load", function () {
    var node = document.getElementById("swagger-ui-container");
    var config = JSON.parse(node.getAttribute("data-config") || "{}");
    config.url = node.getAttribute("data-spec-url");
    config.dom_id = "#swagger-ui-container";
    window.ui = window.SwaggerUIBundle(config);
  });
})();
