/* dicomkit.codec._scan: the reader's element-header scan in C (PS3.5 section 7.1).
 *
 * Optional accelerator of dicomkit.codec.reader: the two functions below do exactly what the
 * reader's pure-Python fast loops (_scan_explicit_py / _scan_implicit_py) do, element by element,
 * and stop at the first element those loops would hand to the general (slow) path: a sequence,
 * an undefined length, an odd length, a value past the limit, a tag out of order, an item or
 * delimiter tag, an unknown VR. The reader works the same without this module; the tests run
 * both scanners on the same bytes (including random ones) and require identical results.
 *
 * Each accepted element is entered into the dict ``d`` as ``d[tag] = header offset``.
 * Every read is bounds-checked against min(limit, len(buf)): hostile input can only make the
 * scan stop early, never read outside the buffer.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* VR kinds by the two VR characters: 0 not a VR this loop accepts, 1 short header
 * (16-bit length), 2 long header (reserved bytes + 32-bit length), 3 SQ (long header). */
static unsigned char vr_kind[256][256];

static const char *SHORT_VRS[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO",
                                  "LT", "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US", NULL};
static const char *LONG_VRS[] = {"OB", "OD", "OF", "OL", "OV", "OW", "UC", "UN", "UR", "UT", "UV",
                                 "SV", NULL};

static inline uint32_t
rd16(const unsigned char *p, int little)
{
    return little ? (uint32_t)p[0] | (uint32_t)p[1] << 8 : (uint32_t)p[0] << 8 | (uint32_t)p[1];
}

static inline uint32_t
rd32(const unsigned char *p, int little)
{
    return little ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
                  : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* d[key] = pos */
static int
put_key(PyObject *d, PyObject *key, Py_ssize_t pos)
{
    PyObject *v = PyLong_FromSsize_t(pos);
    if (v == NULL)
        return -1;
    int rc = PyDict_SetItem(d, key, v);
    Py_DECREF(v);
    return rc;
}

/* d[tag] = pos */
static int
put(PyObject *d, uint32_t tag, Py_ssize_t pos)
{
    PyObject *k = PyLong_FromUnsignedLong(tag);
    if (k == NULL)
        return -1;
    int rc = put_key(d, k, pos);
    Py_DECREF(k);
    return rc;
}

/* the scan's result (pos, last), or NULL with the error set */
static PyObject *
finish(Py_buffer *view, int failed, Py_ssize_t pos, long long last)
{
    PyBuffer_Release(view);
    if (failed)
        return NULL;
    return Py_BuildValue("nL", pos, last);
}

/* explicit(buf, pos, lim, little, stop, last, lazy_sq, d) -> (pos, last) */
static PyObject *
scan_explicit(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t pos, lim;
    int little, lazy_sq;
    long long stop, last;
    PyObject *d;
    if (!PyArg_ParseTuple(args, "y*nnpLLpO!", &view, &pos, &lim, &little, &stop, &last, &lazy_sq,
                          &PyDict_Type, &d))
        return NULL;
    const unsigned char *buf = (const unsigned char *)view.buf;
    if (lim > view.len)
        lim = view.len;
    int failed = 0;
    while (pos >= 0 && pos <= lim - 12) {
        const unsigned char *h = buf + pos;
        uint32_t tag = rd16(h, little) << 16 | rd16(h + 2, little);
        int kind = vr_kind[h[4]][h[5]];
        Py_ssize_t nxt;
        uint32_t ln;
        if (kind == 1) {
            ln = rd16(h + 6, little);
            nxt = pos + 8 + (Py_ssize_t)ln;
        }
        else if (kind >= 2) {
            if (kind == 3 && !lazy_sq)
                break;
            ln = rd32(h + 8, little);
            nxt = pos + 12 + (Py_ssize_t)ln;
        }
        else
            break;
        if (!((long long)tag > last && (long long)tag < stop && nxt <= lim && !(ln & 1)))
            break;
        if (put(d, tag, pos) < 0) {
            failed = 1;
            break;
        }
        last = tag;
        pos = nxt;
    }
    return finish(&view, failed, pos, last);
}

/* implicit(buf, pos, lim, little, stop, last, sq_tags, sq_rules, d) -> (pos, last)
 * sq_tags: frozenset of the tags the dictionary calls SQ; sq_rules: tuple of (mask, value)
 * pairs of repeating-group SQ entries (a match only stops the scan, never decides). */
static PyObject *
scan_implicit(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t pos, lim;
    int little;
    long long stop, last;
    PyObject *sq_tags, *sq_rules, *d;
    if (!PyArg_ParseTuple(args, "y*nnpLLO!O!O!", &view, &pos, &lim, &little, &stop, &last,
                          &PyFrozenSet_Type, &sq_tags, &PyTuple_Type, &sq_rules, &PyDict_Type, &d))
        return NULL;
    const unsigned char *buf = (const unsigned char *)view.buf;
    if (lim > view.len)
        lim = view.len;
    uint32_t masks[16], values[16];
    Py_ssize_t nrules = PyTuple_GET_SIZE(sq_rules);
    if (nrules > 16) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "at most 16 SQ rules");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nrules; i++) {
        PyObject *pair = PyTuple_GET_ITEM(sq_rules, i);
        if (!PyArg_ParseTuple(pair, "II", &masks[i], &values[i])) {
            PyBuffer_Release(&view);
            return NULL;
        }
    }
    const unsigned char item_le[4] = {0xFE, 0xFF, 0x00, 0xE0};
    const unsigned char item_be[4] = {0xFF, 0xFE, 0xE0, 0x00};
    const unsigned char *item = little ? item_le : item_be;
    int failed = 0;
    while (pos >= 0 && pos <= lim - 8) {
        const unsigned char *h = buf + pos;
        uint32_t group = rd16(h, little);
        uint32_t tag = group << 16 | rd16(h + 2, little);
        uint32_t ln = rd32(h + 4, little);
        Py_ssize_t nxt = pos + 8 + (Py_ssize_t)ln;
        if (!((long long)tag > last && (long long)tag < stop && nxt <= lim && !(ln & 1)))
            break;
        if ((group & 1) && ln >= 8 && memcmp(h + 8, item, 4) == 0)
            break; /* a private element holding items: maybe a sequence */
        int rule = 0;
        for (Py_ssize_t i = 0; i < nrules; i++)
            if ((tag & masks[i]) == values[i])
                rule = 1;
        if (rule)
            break;
        PyObject *k = PyLong_FromUnsignedLong(tag);
        if (k == NULL) {
            failed = 1;
            break;
        }
        int is_sq = PySet_Contains(sq_tags, k);
        int rc = is_sq == 0 ? put_key(d, k, pos) : 0;
        Py_DECREF(k);
        if (is_sq != 0 || rc < 0) {
            failed = is_sq < 0 || rc < 0;
            break;
        }
        last = tag;
        pos = nxt;
    }
    return finish(&view, failed, pos, last);
}

static PyMethodDef methods[] = {
    {"explicit", scan_explicit, METH_VARARGS,
     "explicit(buf, pos, lim, little, stop, last, lazy_sq, d) -> (pos, last)\n\n"
     "Scan explicit VR element headers from pos while the reader's fast path applies."},
    {"implicit", scan_implicit, METH_VARARGS,
     "implicit(buf, pos, lim, little, stop, last, sq_tags, sq_rules, d) -> (pos, last)\n\n"
     "Scan implicit VR element headers from pos while the reader's fast path applies."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "dicomkit.codec._scan",
    "The reader's element-header scan in C (optional accelerator; see dicomkit.codec.reader).", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__scan(void)
{
    memset(vr_kind, 0, sizeof vr_kind);
    for (const char **v = SHORT_VRS; *v; v++)
        vr_kind[(unsigned char)(*v)[0]][(unsigned char)(*v)[1]] = 1;
    for (const char **v = LONG_VRS; *v; v++)
        vr_kind[(unsigned char)(*v)[0]][(unsigned char)(*v)[1]] = 2;
    vr_kind['S']['Q'] = 3;
    return PyModule_Create(&module);
}
