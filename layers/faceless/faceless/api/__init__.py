"""The HTTP API: powertools' APIGatewayHttpResolver with one Router (routes.py) and one exception
map (app.py); the logic behind each route in videos.py; request and response bodies in models.py.
The same handler answers API Gateway in the cloud and `faceless serve` locally."""
