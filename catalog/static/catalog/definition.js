// Render the API entity's OpenAPI definition with the packaged Swagger UI (no network fetches).
(function () {
  const node = document.getElementById("api-definition");
  if (!node || !window.SwaggerUIBundle) return;
  const spec = JSON.parse(JSON.parse(node.textContent));
  window.SwaggerUIBundle({ spec: spec, dom_id: "#swagger-ui", deepLinking: false, supportedSubmitMethods: [] });
})();
