/* Interoperability with Python's msgpack + msgpack_numpy (Debian 0.4.8):
 * a stream written by parpi loads as numpy arrays of the right dtype, shape
 * and values for every dtype; a stream written by Python reads in parpi.
 * Skipped, saying why, when /usr/bin/python3 lacks msgpack_numpy. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "base/err.h"
#include "frame/frame.h"

#define PY "/usr/bin/python3"

static const char *const py_check =
    "import sys, msgpack, msgpack_numpy, numpy as np\n"
    "names = {'f32':'<f4','f64':'<f8','i32':'<i4','i64':'<i8','u8':'|u1','bool':'|b1'}\n"
    "shapes = [(), (5,), (3, 4), (2, 3, 2), (1, 2, 1, 3, 1, 1, 1, 2)]\n"
    "n = 0\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    frames = list(msgpack.Unpacker(f, object_hook=msgpack_numpy.decode, raw=False))\n"
    "assert len(frames) == 2, len(frames)\n"
    "for k, fr in enumerate(frames):\n"
    "    assert fr['step'] == k and fr['name'] == 'interop' and abs(fr['alpha'] - 0.2) < 1e-15\n"
    "    for dn, npt in names.items():\n"
    "        for s, shape in enumerate(shapes):\n"
    "            a = fr['t'][dn]['r%d' % s]\n"
    "            assert isinstance(a, np.ndarray), (dn, s, type(a))\n"
    "            assert a.dtype == np.dtype(npt), (dn, a.dtype)\n"
    "            assert a.shape == shape, (dn, a.shape, shape)\n"
    "            i = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)\n"
    "            if dn == 'bool': want = (i + k) % 3 == 0\n"
    "            elif dn in ('f32', 'f64'): want = ((i + k) * 0.25 - 1).astype(npt)\n"
    "            else: want = ((i * 7 + k) % 100).astype(npt)\n"
    "            assert np.array_equal(a, want), (dn, s, a, want)\n"
    "            n += 1\n"
    "print('checked', n, 'arrays')\n";

static const char *const py_write =
    "import sys, msgpack, msgpack_numpy, numpy as np\n"
    "with open(sys.argv[1], 'wb') as f:\n"
    "    for k in range(3):\n"
    "        fr = {'step': k, 'alpha': np.float32(0.5), 'batch': {\n"
    "            'obs': np.arange(12, dtype=np.float32).reshape(3, 4) + k,\n"
    "            'rew': np.linspace(0, 1, 5),\n"
    "            'act': np.arange(6, dtype=np.int32).reshape(2, 3) * -1,\n"
    "            'idx': np.arange(4, dtype=np.int64) * 10**12,\n"
    "            'pix': np.arange(8, dtype=np.uint8).reshape(2, 2, 2),\n"
    "            'done': np.array([True, False, k == 1])},\n"
    "            'empty': np.zeros((0, 3), np.float32), 'fortran': np.asfortranarray(np.arange(6.).reshape(2, 3))}\n"
    "        f.write(msgpack.packb(fr, default=msgpack_numpy.encode, use_bin_type=True))\n";

static void fill(void *p, pp_dtype dt, int64_t n, int k)
{
    for (int64_t i = 0; i < n; i++) switch (dt) {
        case PP_F32: ((float *)p)[i] = (float)(i + k) * 0.25f - 1; break;
        case PP_F64: ((double *)p)[i] = (double)(i + k) * 0.25 - 1; break;
        case PP_I32: ((int32_t *)p)[i] = (int32_t)((i * 7 + k) % 100); break;
        case PP_I64: ((int64_t *)p)[i] = (i * 7 + k) % 100; break;
        case PP_U8: ((uint8_t *)p)[i] = (uint8_t)((i * 7 + k) % 100); break;
        default: ((uint8_t *)p)[i] = (i + k) % 3 == 0; break;
        }
}

static int run_python(const char *script, const char *arg, char *out, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, PY " -c \"$PARPI_PY\" '%s' 2>&1", arg);
    setenv("PARPI_PY", script, 1);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    return pclose(p);
}

int main(void)
{
    if (access(PY, X_OK) != 0 || system(PY " -c 'import msgpack, msgpack_numpy, numpy' 2>/dev/null") != 0) {
        SKIP("python interop: " PY " with msgpack, msgpack_numpy and numpy is not available");
        return check_done();
    }
    char dir[] = "/tmp/parpi-test-interop.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char path[256], path2[256], out[8192];
    snprintf(path, sizeof path, "%s/parpi.mp", dir);
    snprintf(path2, sizeof path2, "%s/python.mp", dir);

    /* parpi -> Python */
    FILE *fp = fopen(path, "wb");
    pp_writer *w = pp_writer_open_fd(fileno(fp), path);
    pp_frame *f = pp_frame_new();
    int64_t shapes[5][8] = {{0}, {5}, {3, 4}, {2, 3, 2}, {1, 2, 1, 3, 1, 1, 1, 2}};
    int ndims[5] = {0, 1, 2, 3, 8};
    int ok = 1;
    for (int k = 0; k < 2; k++) {
        pp_frame_clear(f);
        pp_frame_set_i64(f, "step", k);
        pp_frame_set_str(f, "name", "interop");
        pp_frame_set_f64(f, "alpha", 0.2);
        for (int t = 0; t < PP_DTYPE_COUNT; t++)
            for (int s = 0; s < 5; s++) {
                char key[64];
                snprintf(key, sizeof key, "t.%s.r%d", pp_dtype_name((pp_dtype)t), s);
                void *d = pp_frame_put_tensor_uninit(f, key, (pp_dtype)t, ndims[s], shapes[s]);
                ok &= d != NULL;
                if (d) fill(d, (pp_dtype)t, pp_shape_numel(ndims[s], shapes[s]), k);
            }
        ok &= pp_writer_put(w, f) == 0;
    }
    pp_writer_close(w);
    fclose(fp);
    CHECK(ok, "write 2 frames of 30 tensors (6 dtypes x ranks 0,1,2,3,8)");
    int rc = run_python(py_check, path, out, sizeof out);
    CHECK(rc == 0 && strstr(out, "checked 60 arrays"), "msgpack_numpy reads every dtype and shape with the right values: %s",
          out);

    /* Python -> parpi */
    rc = run_python(py_write, path2, out, sizeof out);
    CHECK(rc == 0, "python writes 3 frames %s", out);
    pp_reader *r = pp_reader_open_path(path2, PP_DEFAULT_MAX_FRAME);
    CHECK(r != NULL, "open the python file");
    int frames = 0, good = 1;
    while (r && pp_reader_next(r, f) == 1) {
        int64_t step, sh34[2] = {3, 4}, sh5[1] = {5}, sh23[2] = {2, 3}, sh4[1] = {4}, sh222[3] = {2, 2, 2},
                      sh3[1] = {3}, sh03[2] = {0, 3};
        float obs[12], empty[1];
        double rew[5], alpha, fort[6];
        int32_t act[6];
        int64_t idx[4];
        uint8_t pix[8], done[3];
        good &= pp_frame_get_i64(f, "step", &step) == 0 && step == frames;
        good &= pp_frame_get_f64(f, "alpha", &alpha) == 0 && alpha == 0.5;
        good &= pp_frame_read_tensor(f, "batch.obs", PP_F32, 2, sh34, obs, NULL) == 0 && obs[11] == 11.0f + (float)frames;
        good &= pp_frame_read_tensor(f, "batch.rew", PP_F64, 1, sh5, rew, NULL) == 0 && rew[4] == 1.0 && rew[1] == 0.25;
        good &= pp_frame_read_tensor(f, "batch.act", PP_I32, 2, sh23, act, NULL) == 0 && act[5] == -5;
        good &= pp_frame_read_tensor(f, "batch.idx", PP_I64, 1, sh4, idx, NULL) == 0 && idx[3] == 3000000000000LL;
        good &= pp_frame_read_tensor(f, "batch.pix", PP_U8, 3, sh222, pix, NULL) == 0 && pix[7] == 7;
        good &= pp_frame_read_tensor(f, "batch.done", PP_BOOL, 1, sh3, done, NULL) == 0 && done[0] == 1 &&
                done[1] == 0 && done[2] == (frames == 1);
        good &= pp_frame_read_tensor(f, "empty", PP_F32, 2, sh03, empty, NULL) == 0;
        /* msgpack-numpy writes a Fortran-ordered array's bytes in C order */
        good &= pp_frame_read_tensor(f, "fortran", PP_F64, 2, sh23, fort, NULL) == 0 && fort[1] == 1.0 && fort[3] == 3.0;
        if (!good) printf("# frame %d: %s\n", frames, pp_error());
        frames++;
    }
    CHECK(frames == 3 && good, "parpi reads Python's 3 frames: f32/f64/i32/i64/u8/bool, empty, numpy scalar (%d frames)",
          frames);
    pp_reader_close(r);
    pp_frame_free(f);
    unlink(path);
    unlink(path2);
    rmdir(dir);
    return check_done();
}
