"""An iris classifier served with FastAPI and scikit-learn, as many teams ship models: the gateway did not write it.

FastAPI publishes the OpenAPI document itself (GET /openapi.json, OpenAPI 3.0 with Pydantic schemas on the FastAPI
versions Debian ships); modelgate discovers it, normalises it to 3.1 and merges it under the gateway paths.
The model is trained at start-up on the iris data set that scikit-learn ships (no download).

    python3 examples/servers/fastapi_iris.py --port 9104
"""

import argparse

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

iris = load_iris()
model = LogisticRegression(max_iter=500).fit(iris.data, iris.target)
SPECIES = [str(name) for name in iris.target_names]

app = FastAPI(title="Iris (FastAPI + scikit-learn)", version="1.0.0")


class Measurements(BaseModel):
    """One flower, in centimetres."""

    sepal_length: float = Field(gt=0, lt=20, description="Sepal length (cm)")
    sepal_width: float = Field(gt=0, lt=20, description="Sepal width (cm)")
    petal_length: float = Field(gt=0, lt=20, description="Petal length (cm)")
    petal_width: float = Field(gt=0, lt=20, description="Petal width (cm)")


class Prediction(BaseModel):
    species: str = Field(description="Most likely species")
    probabilities: dict[str, float] = Field(description="Probability per species")


@app.post("/predict", response_model=Prediction, summary="Predict the species of one flower")
def predict(m: Measurements) -> Prediction:
    row = [[m.sepal_length, m.sepal_width, m.petal_length, m.petal_width]]
    probabilities = model.predict_proba(row)[0]
    best = int(probabilities.argmax())
    return Prediction(
        species=SPECIES[best],
        probabilities={name: float(p) for name, p in zip(SPECIES, probabilities)},
    )


@app.get("/health", summary="Liveness")
def health() -> dict:
    return {"status": "ok"}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9104)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
