"""scikit-learn interface: :class:`CosfireDescriptor` configures a bank in ``fit`` and
describes images in ``transform``, so COSFIRE descriptors drop into a ``Pipeline``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from cosfire.bank import FilterBank, configure_bank
from cosfire.configure import DEFAULT_RHOS, FilterConfig
from cosfire.descriptor import describe
from cosfire.morphology import morphology_names
from cosfire.plan import DEFAULT_ROTATIONS_DEG
from cosfire.preprocess import Preprocessing

__all__ = ["CosfireDescriptor"]


class CosfireDescriptor(TransformerMixin, BaseEstimator):
    """COSFIRE descriptors as a scikit-learn transformer.

    ``fit(images, labels)`` configures ``per_class`` filters per class on prototypes drawn
    from the training images with ``random_state``; ``transform(images)`` returns one value per
    filter and image. Images are a sequence of 2-D arrays or a 3-D array ``(n, H, W)``.
    Parameters mean what they mean in :func:`cosfire.configure.configure` and
    :class:`cosfire.preprocess.Preprocessing`.

    Attributes
    ----------
    bank_ : FilterBank
        The configured bank.
    classes_ : ndarray
        The class labels seen in ``fit``, in the bank's class order.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> dots = [np.pad(np.ones((3, 3), np.float32), 30) for _ in range(2)]
    >>> bars = [np.pad(np.ones((3, 15), np.float32), 30) for _ in range(2)]
    >>> model = make_pipeline(
    ...     CosfireDescriptor(per_class=1, sigma=2.0, rhos=(0, 6), crop_px=None), SVC())
    >>> model.fit(dots + bars, ["dot", "dot", "bar", "bar"]).predict(bars).tolist()
    ['bar', 'bar']
    """

    def __init__(
        self,
        per_class: int = 93,
        *,
        random_state: int = 0,
        sigma: float = 5.0,
        polarity: str = "on",
        sigma_ratio: float = 0.5,
        rhos: Sequence[float] = DEFAULT_RHOS,
        t1: float = 0.05,
        t2: float = 0.75,
        eta: float = math.pi / 8,
        sigma0: float = 0.5,
        alpha: float = 0.10,
        blur: str = "max",
        weighted: bool = True,
        weight_rule: str = "radio",
        crop_px: int | None = 150,
        noise_clip: float | None = 3.0,
        smooth_px: float | None = None,
        rotations: Sequence[float] = DEFAULT_ROTATIONS_DEG,
        n_jobs: int = 1,
    ) -> None:
        self.per_class = per_class
        self.random_state = random_state
        self.sigma = sigma
        self.polarity = polarity
        self.sigma_ratio = sigma_ratio
        self.rhos = rhos
        self.t1 = t1
        self.t2 = t2
        self.eta = eta
        self.sigma0 = sigma0
        self.alpha = alpha
        self.blur = blur
        self.weighted = weighted
        self.weight_rule = weight_rule
        self.crop_px = crop_px
        self.noise_clip = noise_clip
        self.smooth_px = smooth_px
        self.rotations = rotations
        self.n_jobs = n_jobs

    def _config(self) -> FilterConfig:
        return FilterConfig(
            sigma=self.sigma,
            polarity=self.polarity,  # type: ignore[arg-type]
            sigma_ratio=self.sigma_ratio,
            rhos=tuple(float(r) for r in self.rhos),
            t1=self.t1,
            t2=self.t2,
            eta=self.eta,
            sigma0=self.sigma0,
            alpha=self.alpha,
            blur=self.blur,  # type: ignore[arg-type]
            weighted=self.weighted,
            weight_rule=self.weight_rule,  # type: ignore[arg-type]
        )

    @staticmethod
    def _as_images(images: Any) -> list[np.ndarray]:
        sequence = list(images)
        for index, image in enumerate(sequence):
            if np.ndim(image) != 2:
                raise ValueError(
                    f"image {index} has shape {np.shape(image)}; CosfireDescriptor expects 2-D "
                    "grey images (a list of (H, W) arrays or one (n, H, W) array)"
                )
        return [np.asarray(image, dtype=np.float32) for image in sequence]

    def fit(self, X: Any, y: Any) -> CosfireDescriptor:
        """Configure the filter bank on prototypes drawn from ``X`` by class ``y``."""
        images = self._as_images(X)
        classes, labels = np.unique(np.asarray(y), return_inverse=True)
        self.classes_ = classes
        self.bank_: FilterBank = configure_bank(
            images,
            labels,
            class_names=[str(c) for c in classes],
            per_class=self.per_class,
            seed=self.random_state,
            config=self._config(),
            preprocessing=Preprocessing(
                crop_px=self.crop_px, noise_clip=self.noise_clip, smooth_px=self.smooth_px
            ),
            rotations_deg=tuple(self.rotations),
        )
        self.n_features_out_ = self.bank_.n_filters
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return the descriptors of ``X`` (float32, (n, n_filters))."""
        check_is_fitted(self, "bank_")
        return describe(self.bank_, self._as_images(X), n_jobs=self.n_jobs)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return ``cosfire_<class>_<index>`` for every filter, then the extras' names."""
        check_is_fitted(self, "bank_")
        names = self.bank_.class_names
        filters = [
            f"cosfire_{names[c]}_{i}"
            for c, i in zip(self.bank_.filter_class, self.bank_.filter_index, strict=True)
        ]
        extras = list(morphology_names(self.bank_.extras)) if self.bank_.extras else []
        return np.array(filters + extras, dtype=object)
