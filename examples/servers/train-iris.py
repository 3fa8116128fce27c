"""Trains the example iris classifier and writes its weights to iris-model.json (run once; the JSON is committed).

Uses scikit-learn's bundled copy of the Iris data set, so it needs no download.
"""
import json
import pathlib

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

data = load_iris()
model = LogisticRegression(max_iter=1000).fit(data.data, data.target)
out = {
    "features": list(data.feature_names),
    "classes": [str(c) for c in data.target_names],
    "coef": [[round(float(w), 6) for w in row] for row in model.coef_],
    "intercept": [round(float(b), 6) for b in model.intercept_],
    "trainingAccuracy": round(float(model.score(data.data, data.target)), 4),
}
pathlib.Path(__file__).with_name("iris-model.json").write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out))
