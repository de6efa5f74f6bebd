// The ltrr_fast._core module: the only file that knows Python objects.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <optional>

#include "index.hpp"
#include "persist.hpp"

namespace py = pybind11;
using ltrr::FilterOp;
using ltrr::Hits;
using ltrr::Index;
using ltrr::SearchParams;

namespace {

// A compiled filter: postfix ops over attribute bitmaps.
struct FilterProgram {
    std::vector<FilterOp> ops;
};

FilterOp::Kind parse_op(const std::string& op) {
    if (op == "attr") return FilterOp::Kind::attr;
    if (op == "all") return FilterOp::Kind::all;
    if (op == "and") return FilterOp::Kind::and_;
    if (op == "or") return FilterOp::Kind::or_;
    if (op == "not") return FilterOp::Kind::not_;
    throw std::invalid_argument("unknown filter op '" + op +
                                "'; expected 'attr', 'all', 'and', 'or' or 'not'");
}

template <class T>
py::array_t<T> to_array(const std::vector<T>& values) {
    py::array_t<T> out(values.size());
    if (!values.empty()) std::memcpy(out.mutable_data(), values.data(), values.size() * sizeof(T));
    return out;
}

using AttributeRows = std::vector<std::vector<std::pair<std::string, std::string>>>;

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "Compiled core of ltrr_fast: analyzer, inverted index over CRoaring, BM25 top-k.";
    m.attr("FORMAT_VERSION") = Index::kFormatVersion;

    static py::exception<ltrr::FormatError> format_error(m, "IndexFormatError", PyExc_ValueError);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const ltrr::FormatError& e) {
            py::set_error(format_error, e.what());
        } catch (const ltrr::FileError& e) {
            PyErr_SetString(PyExc_OSError, e.what());
        }
    });

    py::class_<SearchParams>(m, "SearchParams")
        .def(py::init<>())
        .def_property(
            "variant",
            [](const SearchParams& p) { return std::string(ltrr::variant_name(p.variant)); },
            [](SearchParams& p, const std::string& name) {
                p.variant = ltrr::parse_variant(name);
            })
        .def_readwrite("k1", &SearchParams::k1)
        .def_readwrite("b", &SearchParams::b)
        .def_readwrite("field_weights", &SearchParams::field_weights)
        .def_readwrite("prior_weight", &SearchParams::prior_weight)
        .def_readwrite("exhaustive", &SearchParams::exhaustive);

    py::class_<FilterProgram>(m, "FilterProgram")
        .def(py::init(
            [](const std::vector<std::tuple<std::string, std::string, std::string, int>>& ops) {
                FilterProgram program;
                for (const auto& [op, key, value, n_args] : ops) {
                    if (n_args < 0) throw std::invalid_argument("filter op arity must be >= 0");
                    program.ops.push_back(
                        FilterOp{parse_op(op), key, value, static_cast<uint32_t>(n_args)});
                }
                return program;
            }))
        .def("__len__", [](const FilterProgram& p) { return p.ops.size(); });

    py::class_<Index>(m, "Index")
        .def(py::init([](std::vector<std::string> fields, bool fold_accents, bool cjk_bigrams,
                         std::string stemmer, std::vector<std::string> stopwords) {
                 ltrr::AnalyzerConfig config;
                 config.fold_accents = fold_accents;
                 config.cjk_bigrams = cjk_bigrams;
                 config.stemmer = std::move(stemmer);
                 config.stopwords = std::move(stopwords);
                 return std::make_unique<Index>(std::move(fields), std::move(config));
             }),
             py::arg("fields"), py::arg("fold_accents") = true, py::arg("cjk_bigrams") = true,
             py::arg("stemmer") = "", py::arg("stopwords") = std::vector<std::string>{})
        .def_property_readonly("fields", &Index::fields)
        .def_property_readonly("fold_accents",
                               [](const Index& ix) { return ix.analyzer().config().fold_accents; })
        .def_property_readonly("cjk_bigrams",
                               [](const Index& ix) { return ix.analyzer().config().cjk_bigrams; })
        .def_property_readonly("stemmer",
                               [](const Index& ix) { return ix.analyzer().config().stemmer; })
        .def_property_readonly("stopwords",
                               [](const Index& ix) { return ix.analyzer().config().stopwords; })
        .def(
            "add_batch",
            [](Index& self, const std::vector<std::string>& ids,
               const std::vector<std::vector<std::string>>& columns,
               py::array_t<double, py::array::c_style | py::array::forcecast> static_scores,
               std::optional<AttributeRows> attributes) {
                const size_t n = ids.size();
                if (columns.size() != self.fields().size()) {
                    throw std::invalid_argument(
                        "expected " + std::to_string(self.fields().size()) +
                        " text columns, got " + std::to_string(columns.size()));
                }
                for (const auto& column : columns) {
                    if (column.size() != n) {
                        throw std::invalid_argument("every text column needs one entry per id");
                    }
                }
                if (static_scores.ndim() != 1 || static_cast<size_t>(static_scores.size()) != n) {
                    throw std::invalid_argument("static_scores needs shape (" + std::to_string(n) +
                                                ",)");
                }
                if (attributes && attributes->size() != n) {
                    throw std::invalid_argument("attributes needs one entry per id");
                }
                std::vector<ltrr::DocInput> docs(n);
                const double* scores = static_scores.data();
                for (size_t i = 0; i < n; ++i) {
                    docs[i].id = ids[i];
                    for (const auto& column : columns) docs[i].fields.emplace_back(column[i]);
                    docs[i].static_score = scores[i];
                    if (attributes) docs[i].attributes = (*attributes)[i];
                }
                py::gil_scoped_release release;
                self.add_batch(docs);
            },
            py::arg("ids"), py::arg("columns"), py::arg("static_scores"),
            py::arg("attributes") = py::none())
        .def(
            "remove",
            [](Index& self, const std::string& id) {
                py::gil_scoped_release release;
                return self.remove(id);
            },
            py::arg("id"))
        .def("compact", &Index::compact, py::call_guard<py::gil_scoped_release>())
        .def(
            "search",
            [](const Index& self, const std::string& query, size_t k, const SearchParams& params,
               const FilterProgram* filter) {
                Hits hits;
                {
                    py::gil_scoped_release release;
                    hits = self.search(query, k, params, filter ? &filter->ops : nullptr);
                }
                return py::make_tuple(to_array(hits.doc_ids), to_array(hits.scores),
                                      py::cast(hits.ids));
            },
            py::arg("query"), py::arg("k"), py::arg("params"), py::arg("filter") = nullptr)
        .def(
            "search_batch",
            [](const Index& self, const std::vector<std::string>& queries, size_t k,
               const SearchParams& params, const FilterProgram* filter, int n_threads) {
                std::vector<int64_t> indptr(queries.size() + 1, 0);
                std::vector<uint32_t> doc_ids;
                std::vector<float> scores;
                std::vector<std::string> ids;
                {
                    py::gil_scoped_release release;
                    auto results = self.search_batch(queries, k, params,
                                                     filter ? &filter->ops : nullptr, n_threads);
                    for (size_t i = 0; i < results.size(); ++i) {
                        indptr[i + 1] =
                            indptr[i] + static_cast<int64_t>(results[i].doc_ids.size());
                    }
                    doc_ids.reserve(indptr.back());
                    scores.reserve(indptr.back());
                    ids.reserve(indptr.back());
                    for (auto& hits : results) {
                        doc_ids.insert(doc_ids.end(), hits.doc_ids.begin(), hits.doc_ids.end());
                        scores.insert(scores.end(), hits.scores.begin(), hits.scores.end());
                        for (auto& id : hits.ids) ids.push_back(std::move(id));
                    }
                }
                return py::make_tuple(to_array(indptr), to_array(doc_ids), to_array(scores),
                                      py::cast(ids));
            },
            py::arg("queries"), py::arg("k"), py::arg("params"), py::arg("filter") = nullptr,
            py::arg("n_threads") = 0)
        .def("tokenize", &Index::tokenize, py::arg("text"))
        .def(
            "external_ids",
            [](const Index& self,
               py::array_t<uint32_t, py::array::c_style | py::array::forcecast> doc_ids) {
                if (doc_ids.ndim() != 1) throw std::invalid_argument("doc_ids must be 1-d");
                return self.external_ids(doc_ids.data(), static_cast<size_t>(doc_ids.size()));
            },
            py::arg("doc_ids"))
        .def("internal_id", &Index::internal_id, py::arg("id"))
        .def(
            "filter_doc_ids",
            [](const Index& self, const FilterProgram& filter) {
                return to_array(self.filter_doc_ids(filter.ops));
            },
            py::arg("filter"))
        .def("doc_freq", &Index::doc_freq, py::arg("field"), py::arg("term"))
        .def("__len__", &Index::size)
        .def_property_readonly("n_slots", &Index::n_slots)
        .def_property_readonly("n_terms", &Index::n_terms)
        .def("save", &Index::save, py::arg("path"), py::call_guard<py::gil_scoped_release>())
        .def_static(
            "load",
            [](const std::string& path) {
                py::gil_scoped_release release;
                return Index::load(path);
            },
            py::arg("path"));
}
