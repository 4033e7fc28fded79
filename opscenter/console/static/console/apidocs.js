// The API documentation pages' bootstrap (/schema, /schema/swagger): each reads the document from the URL its
// container names, so no page carries inline script and the strict Content-Security-Policy holds there too.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var swagger = document.getElementById("swagger-container");
    if (swagger && typeof SwaggerUIBundle !== "undefined") {
      SwaggerUIBundle({
        url: swagger.getAttribute("data-spec-url"),
        dom_id: "#swagger-container",
        deepLinking: true,
        validatorUrl: null, // else it shows a badge fetched from validator.swagger.io
        showExtensions: true,
        showCommonExtensions: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
      });
    }
    var redoc = document.getElementById("redoc-container");
    if (redoc && typeof Redoc !== "undefined") {
      Redoc.init(redoc.getAttribute("data-spec-url"), undefined, redoc);
    }
  });
})();
