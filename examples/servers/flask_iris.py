"""An iris classifier served with Flask and scikit-learn, documented the flasgger way: the gateway did not write it.

flasgger builds a Swagger 2.0 document from the YAML in each view's docstring and publishes it at its apispec path
(GET /apispec_1.json; Swagger UI at /apidocs). modelgate fetches it (`docs.openAPI.path`), converts it to OpenAPI 3.1
and merges it under the gateway paths. The model is trained at start-up on the iris data set scikit-learn ships.

    python3 examples/servers/flask_iris.py --port 9105
"""

import argparse
import logging

from flasgger import Swagger
from flask import Flask, jsonify, request
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

iris = load_iris()
model = LogisticRegression(max_iter=500).fit(iris.data, iris.target)
SPECIES = [str(name) for name in iris.target_names]
FIELDS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

app = Flask(__name__)
Swagger(app, template={"info": {"title": "Iris (Flask + flasgger + scikit-learn)", "version": "1.0.0"}})


@app.post("/predict")
def predict():
    """Predict the species of one flower
    ---
    consumes: [application/json]
    produces: [application/json]
    parameters:
      - name: body
        in: body
        required: true
        schema:
          id: Measurements
          type: object
          required: [sepal_length, sepal_width, petal_length, petal_width]
          properties:
            sepal_length: {type: number, description: Sepal length (cm), example: 6.7}
            sepal_width: {type: number, description: Sepal width (cm), example: 3.0}
            petal_length: {type: number, description: Petal length (cm), example: 5.2}
            petal_width: {type: number, description: Petal width (cm), example: 2.3}
    responses:
      200:
        description: The most likely species and the probability of each
        schema:
          id: Prediction
          type: object
          properties:
            species: {type: string}
            probabilities:
              type: object
              additionalProperties: {type: number}
      400:
        description: A measurement is missing or not a number
    """
    body = request.get_json(silent=True) or {}
    try:
        row = [[float(body[f]) for f in FIELDS]]
    except (KeyError, TypeError, ValueError):
        return jsonify({"error": f"expected numbers {', '.join(FIELDS)}"}), 400
    probabilities = model.predict_proba(row)[0]
    best = int(probabilities.argmax())
    return jsonify(
        {"species": SPECIES[best], "probabilities": {n: float(p) for n, p in zip(SPECIES, probabilities)}}
    )


@app.get("/health")
def health():
    """Liveness
    ---
    responses:
      200:
        description: The server is up
    """
    return jsonify({"status": "ok"})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9105)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app.run(host=args.host, port=args.port)
