"""The method's tuning constants, in one place, each with why it has its value.

Measured consequences of these values are in the user guide's pages, next
to the commands that measured them; the constants themselves change only
with a study that says why.
"""

import numpy as np

# ------------------------------------------------------------- strengths
#: Strengths the dose teachers learn, uniform on [DOSE_LOW, DOSE_HIGH]. Below
#: 0 a group moves away from the target (some disparities, e.g. equalized
#: odds against biased labels, need that); above 1 it over-corrects.
DOSE_LOW, DOSE_HIGH = -1.0, 2.0
#: Strengths searched per group with a bound: a 0.05 grid with 0 on it (near
#: the best equalized-odds plans, a 0.1 step of one group's strength moved a
#: student's disparity by more than 0.03).
STRENGTH_GRID = np.round(np.linspace(DOSE_LOW, DOSE_HIGH, 61), 6)
#: Strengths tried by trigger_strength="auto" without a bound: one teacher
#: fit each, so few.
AUTO_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)

# ----------------------------------------------------- the plan search
#: Most plans scored by trying every combination of per-group strengths;
#: beyond, the search improves one group's strength at a time (two groups
#: on the grid are 3,721 plans).
MAX_PLANS = 4000
#: Most groups given a strength column each in plan_search_; with more, each
#: plan's smallest, mean and largest strength are shown instead.
MAX_STRENGTH_COLUMNS = 50

# ------------------------------------------------ students of a bound
#: Most students distilled by the search for a bound: each after the one
#: before missed its check (a student is a full fit).
MAX_STUDENTS = 3
#: Weights of the first student in the mixes of two checked students that
#: blend_students=True tries (the second has the rest).
BLEND_WEIGHTS = np.round(np.linspace(0.05, 0.95, 19), 2)

# --------------------------------------------------- the wrapped models
#: Copies of its rows a scikit-learn dose teacher learns, each with fresh
#: doses (a network draws fresh doses every epoch instead).
DOSE_COPIES = 1
#: Soft-label copies lighter than this share of their row's weight are left
#: out of a scikit-learn student's rows: they change its fit by less than the
#: noise of the teacher's probabilities, and cost a row each.
MIN_COPY_SHARE = 1e-3
#: A boosted dose teacher is asked at every BISECT_STEP-th strength of the
#: grid first, then between them by bisection where its answers differ.
BISECT_STEP = 4
#: A soft label is decisive when one class has at least this probability: on
#: those rows a student must agree with its soft labels more often than a
#: constant model does.
DECISIVE_SHARE = 0.6

# ---------------------------------------------------------- diagnostics
#: Below this median flip rate the teacher is reported as not having learned
#: its triggers (the bias then stays on the group).
WEAK_TRIGGER_FLIP_RATE = 0.5
