// Starts Swagger UI with the documents listed by the page (served by modelgate; every URL is relative, so the portal
// also works behind a reverse proxy that adds a path prefix).
(() => {
  const config = JSON.parse(document.getElementById('modelgate-config').textContent);
  const params = new URLSearchParams(window.location.search);
  window.ui = SwaggerUIBundle({
    urls: config.urls,
    'urls.primaryName': params.get('urls.primaryName') || config.urls[0].name,
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
    tryItOutEnabled: false,
    displayRequestDuration: true,
    validatorUrl: null,
  });
})();
