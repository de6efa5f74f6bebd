// BM25 components named for their meaning: inverse document frequency, length normalisation and
// term-frequency saturation. Formulas follow Kamphuis et al., "Which BM25 Do You Mean?" (2020).
#pragma once

#include <cmath>
#include <limits>

#include "index.hpp"

namespace ltrr {

// Inverse document frequency; never negative for any variant.
inline double idf(Variant variant, double n_docs, double df) {
    switch (variant) {
        case Variant::lucene:
            return std::log(1.0 + (n_docs - df + 0.5) / (df + 0.5));
        case Variant::robertson: {
            const double ratio = (n_docs - df + 0.5) / (df + 0.5);
            return ratio > 1.0 ? std::log(ratio) : 0.0;
        }
        case Variant::atire:
            return std::log(n_docs / df);
    }
    return 0.0;
}

// Length normalisation 1 - b + b * length / avg_length, as base + slope * length.
struct LengthNorm {
    double base = 1.0;
    double slope = 0.0;

    static LengthNorm make(double b, double avg_length) {
        if (avg_length <= 0.0) return LengthNorm{1.0, 0.0};
        return LengthNorm{1.0 - b, b / avg_length};
    }
    double operator()(uint32_t length) const { return base + slope * length; }
};

// Saturation of a (pseudo) term frequency already divided by its length normalisation:
// tf / (tf + k1), times (k1 + 1) for ATIRE.
struct Saturation {
    Variant variant = Variant::lucene;
    double k1 = 1.2;

    double operator()(double tf) const {
        if (tf <= 0.0) return 0.0;
        const double s = tf / (tf + k1);
        return variant == Variant::atire ? s * (k1 + 1.0) : s;
    }

    // Largest tf with operator()(tf) <= s; infinity when every tf qualifies.
    double inverse(double s) const {
        const double top = variant == Variant::atire ? k1 + 1.0 : 1.0;
        if (s >= top) return std::numeric_limits<double>::infinity();
        if (s <= 0.0) return 0.0;
        return s * k1 / (top - s);
    }
};

}  // namespace ltrr
