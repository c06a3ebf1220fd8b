;; csq's WebAssembly SIMD training kernels for tfjs-backend-wasm.
;;
;; This module imports the wasm backend's own memory, so it reads and writes tensors in place:
;; every pointer below is a byte offset into that memory (a tensor's `memoryOffset`), every
;; tensor is float32 (int32 where said), row-major, channels innermost (NHWC).
;; Compiled by `wabt` (pinned in package.json) in scripts/build-wasm.mjs.
(module
  (import "env" "memory" (memory 1))

  ;; ---------------------------------------------------------------------------------------
  ;; Batch norm, forward (spec: tfjs FusedBatchNorm): x, y [rows, ch]; mean, k, beta [ch]:
  ;;   y[r, c] = (x[r, c] - mean[c]) * k[c] + beta[c],   k = scale * rsqrt(variance + eps)
  (func (export "bn_forward")
    (param $x i32) (param $y i32) (param $rows i32) (param $ch i32)
    (param $mean i32) (param $k i32) (param $beta i32)
    (local $r i32) (local $c i32) (local $c4 i32) (local $o i32) (local $rowBytes i32)
    (local.set $c4 (i32.and (local.get $ch) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $ch) (i32.const 2)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $v_done
          (loop $v_loop
            (br_if $v_done (i32.ge_u (local.get $c) (local.get $c4)))
            (local.set $o (i32.shl (local.get $c) (i32.const 2)))
            (v128.store (i32.add (local.get $y) (local.get $o))
              (f32x4.add
                (f32x4.mul
                  (f32x4.sub
                    (v128.load (i32.add (local.get $x) (local.get $o)))
                    (v128.load (i32.add (local.get $mean) (local.get $o))))
                  (v128.load (i32.add (local.get $k) (local.get $o))))
                (v128.load (i32.add (local.get $beta) (local.get $o)))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $v_loop)))
        (block $s_done
          (loop $s_loop
            (br_if $s_done (i32.ge_u (local.get $c) (local.get $ch)))
            (local.set $o (i32.shl (local.get $c) (i32.const 2)))
            (f32.store (i32.add (local.get $y) (local.get $o))
              (f32.add
                (f32.mul
                  (f32.sub
                    (f32.load (i32.add (local.get $x) (local.get $o)))
                    (f32.load (i32.add (local.get $mean) (local.get $o))))
                  (f32.load (i32.add (local.get $k) (local.get $o))))
                (f32.load (i32.add (local.get $beta) (local.get $o)))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $s_loop)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $y (i32.add (local.get $y) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows_loop))))

  ;; Adds the float32 partial sums acc[ch] into the float64 totals tot[ch] and zeroes acc.
  (func $flush (param $acc i32) (param $tot i32) (param $ch i32)
    (local $c i32)
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $c) (local.get $ch)))
        (f64.store (i32.add (local.get $tot) (i32.shl (local.get $c) (i32.const 3)))
          (f64.add
            (f64.load (i32.add (local.get $tot) (i32.shl (local.get $c) (i32.const 3))))
            (f64.promote_f32 (f32.load (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 2)))))))
        (f32.store (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 2))) (f32.const 0))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $loop))))

  ;; Batch norm, backward, one pass over x and dy ([rows, ch]):
  ;;   dx[r, c] = dy[r, c] * k[c]
  ;;   totDy[c] += sum_r dy[r, c],   totDyXm[c] += sum_r dy[r, c] * (x[r, c] - mean[c])
  ;; Partial sums of 64 rows are float32 (accDy, accDyXm, zero on entry), totals float64.
  (func (export "bn_backward")
    (param $x i32) (param $dy i32) (param $dx i32) (param $rows i32) (param $ch i32)
    (param $mean i32) (param $k i32) (param $accDy i32) (param $accDyXm i32)
    (param $totDy i32) (param $totDyXm i32)
    (local $r i32) (local $c i32) (local $c4 i32) (local $o i32) (local $rowBytes i32)
    (local $g v128) (local $xm v128) (local $gs f32) (local $xms f32)
    (local.set $c4 (i32.and (local.get $ch) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $ch) (i32.const 2)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $v_done
          (loop $v_loop
            (br_if $v_done (i32.ge_u (local.get $c) (local.get $c4)))
            (local.set $o (i32.shl (local.get $c) (i32.const 2)))
            (local.set $g (v128.load (i32.add (local.get $dy) (local.get $o))))
            (local.set $xm
              (f32x4.sub
                (v128.load (i32.add (local.get $x) (local.get $o)))
                (v128.load (i32.add (local.get $mean) (local.get $o)))))
            (v128.store (i32.add (local.get $dx) (local.get $o))
              (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $k) (local.get $o)))))
            (v128.store (i32.add (local.get $accDy) (local.get $o))
              (f32x4.add (v128.load (i32.add (local.get $accDy) (local.get $o))) (local.get $g)))
            (v128.store (i32.add (local.get $accDyXm) (local.get $o))
              (f32x4.add
                (v128.load (i32.add (local.get $accDyXm) (local.get $o)))
                (f32x4.mul (local.get $g) (local.get $xm))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $v_loop)))
        (block $s_done
          (loop $s_loop
            (br_if $s_done (i32.ge_u (local.get $c) (local.get $ch)))
            (local.set $o (i32.shl (local.get $c) (i32.const 2)))
            (local.set $gs (f32.load (i32.add (local.get $dy) (local.get $o))))
            (local.set $xms
              (f32.sub
                (f32.load (i32.add (local.get $x) (local.get $o)))
                (f32.load (i32.add (local.get $mean) (local.get $o)))))
            (f32.store (i32.add (local.get $dx) (local.get $o))
              (f32.mul (local.get $gs) (f32.load (i32.add (local.get $k) (local.get $o)))))
            (f32.store (i32.add (local.get $accDy) (local.get $o))
              (f32.add (f32.load (i32.add (local.get $accDy) (local.get $o))) (local.get $gs)))
            (f32.store (i32.add (local.get $accDyXm) (local.get $o))
              (f32.add
                (f32.load (i32.add (local.get $accDyXm) (local.get $o)))
                (f32.mul (local.get $gs) (local.get $xms))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $s_loop)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
        (local.set $dx (i32.add (local.get $dx) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (if (i32.eqz (i32.and (local.get $r) (i32.const 63)))
          (then
            (call $flush (local.get $accDy) (local.get $totDy) (local.get $ch))
            (call $flush (local.get $accDyXm) (local.get $totDyXm) (local.get $ch))))
        (br $rows_loop)))
    (call $flush (local.get $accDy) (local.get $totDy) (local.get $ch))
    (call $flush (local.get $accDyXm) (local.get $totDyXm) (local.get $ch)))

  ;; dst[r, c] = src[c] for every row r (a per-channel vector broadcast to [rows, ch]).
  (func (export "broadcast_rows")
    (param $src i32) (param $dst i32) (param $rows i32) (param $ch i32)
    (local $r i32) (local $c i32) (local $c4 i32) (local $o i32) (local $rowBytes i32)
    (local.set $c4 (i32.and (local.get $ch) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $ch) (i32.const 2)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $v_done
          (loop $v_loop
            (br_if $v_done (i32.ge_u (local.get $c) (local.get $c4)))
            (local.set $o (i32.shl (local.get $c) (i32.const 2)))
            (v128.store (i32.add (local.get $dst) (local.get $o))
              (v128.load (i32.add (local.get $src) (local.get $o))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $v_loop)))
        (block $s_done
          (loop $s_loop
            (br_if $s_done (i32.ge_u (local.get $c) (local.get $ch)))
            (local.set $o (i32.shl (local.get $c) (i32.const 2)))
            (f32.store (i32.add (local.get $dst) (local.get $o))
              (f32.load (i32.add (local.get $src) (local.get $o))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $s_loop)))
        (local.set $dst (i32.add (local.get $dst) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows_loop))))

  ;; out[i] = a[i] * b[i] * s for i < n (the gradient of Square: dy * 2x).
  (func (export "mul_scaled")
    (param $a i32) (param $b i32) (param $out i32) (param $n i32) (param $s f32)
    (local $i i32) (local $n4 i32) (local $o i32) (local $sv v128)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $sv (f32x4.splat (local.get $s)))
    (block $v_done
      (loop $v_loop
        (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (v128.store (i32.add (local.get $out) (local.get $o))
          (f32x4.mul
            (f32x4.mul
              (v128.load (i32.add (local.get $a) (local.get $o)))
              (v128.load (i32.add (local.get $b) (local.get $o))))
            (local.get $sv)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $v_loop)))
    (block $s_done
      (loop $s_loop
        (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (f32.store (i32.add (local.get $out) (local.get $o))
          (f32.mul
            (f32.mul
              (f32.load (i32.add (local.get $a) (local.get $o)))
              (f32.load (i32.add (local.get $b) (local.get $o))))
            (local.get $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $s_loop))))

  ;; ---------------------------------------------------------------------------------------
  ;; Max-pool gradient (spec: tfjs-backend-cpu MaxPoolGrad). x [n, h, w, ch], dy [n, oh, ow, ch],
  ;; dx [n, h, w, ch] zeroed by the caller. For each output position and channel, the first
  ;; strict maximum of the window (rows, then columns; padding never wins) receives dy.
  ;; geo (int32): [h, w, oh, ow, kh, kw, sh, sw, top, left]
  (func (export "max_pool_grad")
    (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $ch i32) (param $geo i32)
    (local $h i32) (local $w i32) (local $oh i32) (local $ow i32) (local $kh i32) (local $kw i32)
    (local $sh i32) (local $sw i32) (local $top i32) (local $left i32)
    (local $b i32) (local $i i32) (local $j i32) (local $c i32) (local $c4 i32)
    (local $y0 i32) (local $x0 i32) (local $p i32) (local $q i32) (local $yy i32) (local $xx i32)
    (local $img i32) (local $dyp i32) (local $pix i32) (local $pos i32)
    (local $best v128) (local $idx v128) (local $v v128) (local $m v128) (local $g v128)
    (local $bests f32) (local $idxs i32) (local $vs f32) (local $addr i32)
    (local.set $h (i32.load offset=0 (local.get $geo)))
    (local.set $w (i32.load offset=4 (local.get $geo)))
    (local.set $oh (i32.load offset=8 (local.get $geo)))
    (local.set $ow (i32.load offset=12 (local.get $geo)))
    (local.set $kh (i32.load offset=16 (local.get $geo)))
    (local.set $kw (i32.load offset=20 (local.get $geo)))
    (local.set $sh (i32.load offset=24 (local.get $geo)))
    (local.set $sw (i32.load offset=28 (local.get $geo)))
    (local.set $top (i32.load offset=32 (local.get $geo)))
    (local.set $left (i32.load offset=36 (local.get $geo)))
    (local.set $c4 (i32.and (local.get $ch) (i32.const -4)))
    (local.set $dyp (local.get $dy))
    (block $b_done
      (loop $b_loop
        (br_if $b_done (i32.ge_u (local.get $b) (local.get $n)))
        ;; byte offset of image b in x / dx
        (local.set $img (i32.mul (local.get $b)
          (i32.shl (i32.mul (i32.mul (local.get $h) (local.get $w)) (local.get $ch)) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $i_done
          (loop $i_loop
            (br_if $i_done (i32.ge_s (local.get $i) (local.get $oh)))
            (local.set $y0 (i32.sub (i32.mul (local.get $i) (local.get $sh)) (local.get $top)))
            (local.set $j (i32.const 0))
            (block $j_done
              (loop $j_loop
                (br_if $j_done (i32.ge_s (local.get $j) (local.get $ow)))
                (local.set $x0 (i32.sub (i32.mul (local.get $j) (local.get $sw)) (local.get $left)))
                ;; four channels at a time
                (local.set $c (i32.const 0))
                (block $c_done
                  (loop $c_loop
                    (br_if $c_done (i32.ge_u (local.get $c) (local.get $c4)))
                    (local.set $best (f32x4.splat (f32.const -inf)))
                    (local.set $idx (i32x4.splat (i32.const -1)))
                    (local.set $p (i32.const 0))
                    (block $p_done
                      (loop $p_loop
                        (br_if $p_done (i32.ge_s (local.get $p) (local.get $kh)))
                        (local.set $yy (i32.add (local.get $y0) (local.get $p)))
                        (if (i32.and (i32.ge_s (local.get $yy) (i32.const 0)) (i32.lt_s (local.get $yy) (local.get $h)))
                          (then
                            (local.set $q (i32.const 0))
                            (block $q_done
                              (loop $q_loop
                                (br_if $q_done (i32.ge_s (local.get $q) (local.get $kw)))
                                (local.set $xx (i32.add (local.get $x0) (local.get $q)))
                                (if (i32.and (i32.ge_s (local.get $xx) (i32.const 0)) (i32.lt_s (local.get $xx) (local.get $w)))
                                  (then
                                    (local.set $pix (i32.add (i32.mul (local.get $yy) (local.get $w)) (local.get $xx)))
                                    (local.set $v (v128.load (i32.add (i32.add (local.get $x) (local.get $img))
                                      (i32.shl (i32.add (i32.mul (local.get $pix) (local.get $ch)) (local.get $c)) (i32.const 2)))))
                                    (local.set $m (f32x4.gt (local.get $v) (local.get $best)))
                                    (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $m)))
                                    (local.set $idx (v128.bitselect (i32x4.splat (local.get $pix)) (local.get $idx) (local.get $m)))))
                                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                                (br $q_loop)))))
                        (local.set $p (i32.add (local.get $p) (i32.const 1)))
                        (br $p_loop)))
                    (local.set $g (v128.load (i32.add (local.get $dyp) (i32.shl (local.get $c) (i32.const 2)))))
                    (call $scatter (local.get $dx) (local.get $img) (local.get $ch) (local.get $c)
                      (i32x4.extract_lane 0 (local.get $idx)) (f32x4.extract_lane 0 (local.get $g)))
                    (call $scatter (local.get $dx) (local.get $img) (local.get $ch) (i32.add (local.get $c) (i32.const 1))
                      (i32x4.extract_lane 1 (local.get $idx)) (f32x4.extract_lane 1 (local.get $g)))
                    (call $scatter (local.get $dx) (local.get $img) (local.get $ch) (i32.add (local.get $c) (i32.const 2))
                      (i32x4.extract_lane 2 (local.get $idx)) (f32x4.extract_lane 2 (local.get $g)))
                    (call $scatter (local.get $dx) (local.get $img) (local.get $ch) (i32.add (local.get $c) (i32.const 3))
                      (i32x4.extract_lane 3 (local.get $idx)) (f32x4.extract_lane 3 (local.get $g)))
                    (local.set $c (i32.add (local.get $c) (i32.const 4)))
                    (br $c_loop)))
                ;; the remaining channels one at a time
                (block $cs_done
                  (loop $cs_loop
                    (br_if $cs_done (i32.ge_u (local.get $c) (local.get $ch)))
                    (local.set $bests (f32.const -inf))
                    (local.set $idxs (i32.const -1))
                    (local.set $p (i32.const 0))
                    (block $ps_done
                      (loop $ps_loop
                        (br_if $ps_done (i32.ge_s (local.get $p) (local.get $kh)))
                        (local.set $yy (i32.add (local.get $y0) (local.get $p)))
                        (if (i32.and (i32.ge_s (local.get $yy) (i32.const 0)) (i32.lt_s (local.get $yy) (local.get $h)))
                          (then
                            (local.set $q (i32.const 0))
                            (block $qs_done
                              (loop $qs_loop
                                (br_if $qs_done (i32.ge_s (local.get $q) (local.get $kw)))
                                (local.set $xx (i32.add (local.get $x0) (local.get $q)))
                                (if (i32.and (i32.ge_s (local.get $xx) (i32.const 0)) (i32.lt_s (local.get $xx) (local.get $w)))
                                  (then
                                    (local.set $pix (i32.add (i32.mul (local.get $yy) (local.get $w)) (local.get $xx)))
                                    (local.set $vs (f32.load (i32.add (i32.add (local.get $x) (local.get $img))
                                      (i32.shl (i32.add (i32.mul (local.get $pix) (local.get $ch)) (local.get $c)) (i32.const 2)))))
                                    (if (f32.gt (local.get $vs) (local.get $bests))
                                      (then
                                        (local.set $bests (local.get $vs))
                                        (local.set $idxs (local.get $pix))))))
                                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                                (br $qs_loop)))))
                        (local.set $p (i32.add (local.get $p) (i32.const 1)))
                        (br $ps_loop)))
                    (call $scatter (local.get $dx) (local.get $img) (local.get $ch) (local.get $c) (local.get $idxs)
                      (f32.load (i32.add (local.get $dyp) (i32.shl (local.get $c) (i32.const 2)))))
                    (local.set $c (i32.add (local.get $c) (i32.const 1)))
                    (br $cs_loop)))
                (local.set $dyp (i32.add (local.get $dyp) (i32.shl (local.get $ch) (i32.const 2))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $j_loop)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $i_loop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $b_loop))))

  ;; dx[img + (pix * ch + c)] += g, unless pix < 0 (no finite maximum in the window).
  (func $scatter (param $dx i32) (param $img i32) (param $ch i32) (param $c i32) (param $pix i32) (param $g f32)
    (local $addr i32)
    (if (i32.ge_s (local.get $pix) (i32.const 0))
      (then
        (local.set $addr (i32.add (i32.add (local.get $dx) (local.get $img))
          (i32.shl (i32.add (i32.mul (local.get $pix) (local.get $ch)) (local.get $c)) (i32.const 2))))
        (f32.store (local.get $addr) (f32.add (f32.load (local.get $addr)) (local.get $g))))))

  ;; ---------------------------------------------------------------------------------------
  ;; Convolution filter gradient (spec: tfjs-backend-cpu Conv2DBackpropFilter), NHWC:
  ;;   dw[a, b, ci, co] = sum_{n, i, j} x[n, i*sh + a*dh - top, j*sw + b*dw - left, ci] dy[n, i, j, co]
  ;; x [n, h, w, cin], dy [n, oh, ow, cout] with cout % 8 == 0, dw [kh, kw, cin, cout] (zeroed by
;; the caller).
  ;; Register tile: 4 input channels (1 for the remainder) x 8 output channels, accumulated over
  ;; every (n, i, j) whose tap lands inside x (padding contributes zero, so it is skipped).
  ;; geo (int32): [n, h, w, cin, oh, ow, cout, kh, kw, sh, sw, dh, dw, top, left]
  (func (export "conv_filter_grad") (param $x i32) (param $dy i32) (param $dwp i32) (param $geo i32)
    (call $conv_filter_grad_range (local.get $x) (local.get $dy) (local.get $dwp) (local.get $geo)
      (i32.const 0) (i32.load offset=24 (local.get $geo))))

  ;; The same for output channels [co0, co1) only (multiples of 8): disjoint parts of dw, so
  ;; threads can split the output channels (each entry accumulates in the same order).
  (func $conv_filter_grad_range (export "conv_filter_grad_range")
    (param $x i32) (param $dy i32) (param $dwp i32) (param $geo i32) (param $co0 i32) (param $co1 i32)
    (local $n i32) (local $h i32) (local $w i32) (local $cin i32) (local $oh i32) (local $ow i32)
    (local $cout i32) (local $kh i32) (local $kw i32) (local $sh i32) (local $sw i32)
    (local $dh i32) (local $dw i32) (local $top i32) (local $left i32)
    (local $a i32) (local $b i32) (local $ci i32) (local $co i32) (local $ci4 i32)
    (local $i0 i32) (local $i1 i32) (local $j0 i32) (local $j1 i32) (local $offH i32) (local $offW i32)
    (local $out i32) (local $img i32)
    (local.set $n (i32.load offset=0 (local.get $geo)))
    (local.set $h (i32.load offset=4 (local.get $geo)))
    (local.set $w (i32.load offset=8 (local.get $geo)))
    (local.set $cin (i32.load offset=12 (local.get $geo)))
    (local.set $oh (i32.load offset=16 (local.get $geo)))
    (local.set $ow (i32.load offset=20 (local.get $geo)))
    (local.set $cout (i32.load offset=24 (local.get $geo)))
    (local.set $kh (i32.load offset=28 (local.get $geo)))
    (local.set $kw (i32.load offset=32 (local.get $geo)))
    (local.set $sh (i32.load offset=36 (local.get $geo)))
    (local.set $sw (i32.load offset=40 (local.get $geo)))
    (local.set $dh (i32.load offset=44 (local.get $geo)))
    (local.set $dw (i32.load offset=48 (local.get $geo)))
    (local.set $top (i32.load offset=52 (local.get $geo)))
    (local.set $left (i32.load offset=56 (local.get $geo)))
    (local.set $ci4 (i32.and (local.get $cin) (i32.const -4)))
    ;; one image at a time (its x and dy stay in cache across the tiles); dw accumulates
    (block $img_done
      (loop $img_loop
        (br_if $img_done (i32.ge_u (local.get $img) (local.get $n)))
    (local.set $a (i32.const 0))
    (block $a_done
      (loop $a_loop
        (br_if $a_done (i32.ge_s (local.get $a) (local.get $kh)))
        ;; input row of output row i: i*sh + offH; valid i in [i0, i1)
        (local.set $offH (i32.sub (i32.mul (local.get $a) (local.get $dh)) (local.get $top)))
        (local.set $i0 (call $first_valid (local.get $offH) (local.get $sh)))
        (local.set $i1 (call $end_valid (local.get $offH) (local.get $sh) (local.get $h) (local.get $oh)))
        (local.set $b (i32.const 0))
        (block $b_done
          (loop $b_loop
            (br_if $b_done (i32.ge_s (local.get $b) (local.get $kw)))
            (local.set $offW (i32.sub (i32.mul (local.get $b) (local.get $dw)) (local.get $left)))
            (local.set $j0 (call $first_valid (local.get $offW) (local.get $sw)))
            (local.set $j1 (call $end_valid (local.get $offW) (local.get $sw) (local.get $w) (local.get $ow)))
            (local.set $ci (i32.const 0))
            (block $ci_done
              (loop $ci_loop
                (br_if $ci_done (i32.ge_u (local.get $ci) (local.get $cin)))
                (local.set $co (local.get $co0))
                (block $co_done
                  (loop $co_loop
                    (br_if $co_done (i32.ge_u (local.get $co) (local.get $co1)))
                    ;; dw[a, b, ci, co]
                    (local.set $out (i32.add (local.get $dwp) (i32.shl
                      (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $a) (local.get $kw)) (local.get $b))
                        (local.get $cin)) (local.get $ci)) (local.get $cout)) (local.get $co)) (i32.const 2))))
                    (if (i32.lt_u (local.get $ci) (local.get $ci4))
                      (then (call $tile4x8 (local.get $x) (local.get $dy) (local.get $out) (local.get $geo) (local.get $img)
                        (local.get $ci) (local.get $co) (local.get $offH) (local.get $offW)
                        (local.get $i0) (local.get $i1) (local.get $j0) (local.get $j1)))
                      (else (call $tile1x8 (local.get $x) (local.get $dy) (local.get $out) (local.get $geo) (local.get $img)
                        (local.get $ci) (local.get $co) (local.get $offH) (local.get $offW)
                        (local.get $i0) (local.get $i1) (local.get $j0) (local.get $j1))))
                    (local.set $co (i32.add (local.get $co) (i32.const 8)))
                    (br $co_loop)))
                (local.set $ci (i32.add (local.get $ci)
                  (select (i32.const 4) (i32.const 1) (i32.lt_u (local.get $ci) (local.get $ci4)))))
                (br $ci_loop)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $b_loop)))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $a_loop)))
        (local.set $img (i32.add (local.get $img) (i32.const 1)))
        (br $img_loop))))

  ;; Smallest i >= 0 with i*s + off >= 0.
  (func $first_valid (param $off i32) (param $s i32) (result i32)
    (if (result i32) (i32.ge_s (local.get $off) (i32.const 0))
      (then (i32.const 0))
      (else (i32.div_s (i32.sub (i32.add (i32.sub (i32.const 0) (local.get $off)) (local.get $s)) (i32.const 1))
        (local.get $s)))))

  ;; One past the largest i < limit with i*s + off < size (at least first_valid's answer).
  (func $end_valid (param $off i32) (param $s i32) (param $size i32) (param $limit i32) (result i32)
    (local $e i32)
    ;; i*s + off <= size - 1  <=>  i <= (size - 1 - off) / s
    (if (i32.lt_s (i32.sub (i32.sub (local.get $size) (i32.const 1)) (local.get $off)) (i32.const 0))
      (then (return (i32.const 0))))
    (local.set $e (i32.add (i32.div_s (i32.sub (i32.sub (local.get $size) (i32.const 1)) (local.get $off))
      (local.get $s)) (i32.const 1)))
    (select (local.get $e) (local.get $limit) (i32.lt_s (local.get $e) (local.get $limit))))

  ;; dw[.., ci..ci+3, co..co+7] = sum over (n, i in [i0, i1), j in [j0, j1)) of x[.., ci..ci+3] dy[.., co..co+7]
  (func $tile4x8 (param $x i32) (param $dy i32) (param $out i32) (param $geo i32) (param $bb i32)
    (param $ci i32) (param $co i32) (param $offH i32) (param $offW i32)
    (param $i0 i32) (param $i1 i32) (param $j0 i32) (param $j1 i32)
    (local $n i32) (local $h i32) (local $w i32) (local $cin i32) (local $oh i32) (local $ow i32)
    (local $cout i32) (local $sh i32) (local $sw i32)
    (local $i i32) (local $j i32) (local $xp i32) (local $dp i32)
    (local $xStep i32) (local $dStep i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $xv v128) (local $d0 v128) (local $d1 v128) (local $s v128)
    (local.set $n (i32.load offset=0 (local.get $geo)))
    (local.set $h (i32.load offset=4 (local.get $geo)))
    (local.set $w (i32.load offset=8 (local.get $geo)))
    (local.set $cin (i32.load offset=12 (local.get $geo)))
    (local.set $oh (i32.load offset=16 (local.get $geo)))
    (local.set $ow (i32.load offset=20 (local.get $geo)))
    (local.set $cout (i32.load offset=24 (local.get $geo)))
    (local.set $sh (i32.load offset=36 (local.get $geo)))
    (local.set $sw (i32.load offset=40 (local.get $geo)))
    (local.set $xStep (i32.shl (i32.mul (local.get $sw) (local.get $cin)) (i32.const 2)))
    (local.set $dStep (i32.shl (local.get $cout) (i32.const 2)))
    ;; accumulate onto dw (zeroed by the caller, then one image at a time)
    (local.set $xp (local.get $out))
    (local.set $a0 (v128.load (local.get $xp)))
    (local.set $a1 (v128.load offset=16 (local.get $xp)))
    (local.set $xp (i32.add (local.get $xp) (local.get $dStep)))
    (local.set $a2 (v128.load (local.get $xp)))
    (local.set $a3 (v128.load offset=16 (local.get $xp)))
    (local.set $xp (i32.add (local.get $xp) (local.get $dStep)))
    (local.set $a4 (v128.load (local.get $xp)))
    (local.set $a5 (v128.load offset=16 (local.get $xp)))
    (local.set $xp (i32.add (local.get $xp) (local.get $dStep)))
    (local.set $a6 (v128.load (local.get $xp)))
    (local.set $a7 (v128.load offset=16 (local.get $xp)))
        (local.set $i (local.get $i0))
        (block $i_done
          (loop $i_loop
            (br_if $i_done (i32.ge_s (local.get $i) (local.get $i1)))
            (if (i32.lt_s (local.get $j0) (local.get $j1))
              (then
                ;; x[bb, i*sh + offH, j0*sw + offW, ci], dy[bb, i, j0, co]
                (local.set $xp (i32.add (local.get $x) (i32.shl
                  (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $bb) (local.get $h))
                    (i32.add (i32.mul (local.get $i) (local.get $sh)) (local.get $offH))) (local.get $w))
                    (i32.add (i32.mul (local.get $j0) (local.get $sw)) (local.get $offW))) (local.get $cin)) (local.get $ci))
                  (i32.const 2))))
                (local.set $dp (i32.add (local.get $dy) (i32.shl
                  (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $bb) (local.get $oh)) (local.get $i))
                    (local.get $ow)) (local.get $j0)) (local.get $cout)) (local.get $co))
                  (i32.const 2))))
                (local.set $j (local.get $j0))
                (loop $j_loop
                  (local.set $xv (v128.load (local.get $xp)))
                  (local.set $d0 (v128.load (local.get $dp)))
                  (local.set $d1 (v128.load offset=16 (local.get $dp)))
                  (local.set $s (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $xv) (local.get $xv)))
                  (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $d0))))
                  (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $d1))))
                  (local.set $s (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $xv) (local.get $xv)))
                  (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (local.get $d0))))
                  (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (local.get $d1))))
                  (local.set $s (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $xv) (local.get $xv)))
                  (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $s) (local.get $d0))))
                  (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $s) (local.get $d1))))
                  (local.set $s (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $xv) (local.get $xv)))
                  (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $s) (local.get $d0))))
                  (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $s) (local.get $d1))))
                  (local.set $xp (i32.add (local.get $xp) (local.get $xStep)))
                  (local.set $dp (i32.add (local.get $dp) (local.get $dStep)))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br_if $j_loop (i32.lt_s (local.get $j) (local.get $j1))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $i_loop)))
    ;; rows ci..ci+3 of dw are cout floats apart
    (local.set $dStep (i32.shl (local.get $cout) (i32.const 2)))
    (v128.store (local.get $out) (local.get $a0))
    (v128.store offset=16 (local.get $out) (local.get $a1))
    (local.set $out (i32.add (local.get $out) (local.get $dStep)))
    (v128.store (local.get $out) (local.get $a2))
    (v128.store offset=16 (local.get $out) (local.get $a3))
    (local.set $out (i32.add (local.get $out) (local.get $dStep)))
    (v128.store (local.get $out) (local.get $a4))
    (v128.store offset=16 (local.get $out) (local.get $a5))
    (local.set $out (i32.add (local.get $out) (local.get $dStep)))
    (v128.store (local.get $out) (local.get $a6))
    (v128.store offset=16 (local.get $out) (local.get $a7)))

  ;; The same for one input channel ci (cin % 4 remainder, and cin == 1).
  (func $tile1x8 (param $x i32) (param $dy i32) (param $out i32) (param $geo i32) (param $bb i32)
    (param $ci i32) (param $co i32) (param $offH i32) (param $offW i32)
    (param $i0 i32) (param $i1 i32) (param $j0 i32) (param $j1 i32)
    (local $n i32) (local $h i32) (local $w i32) (local $cin i32) (local $oh i32) (local $ow i32)
    (local $cout i32) (local $sh i32) (local $sw i32)
    (local $i i32) (local $j i32) (local $xp i32) (local $dp i32)
    (local $xStep i32) (local $dStep i32)
    (local $a0 v128) (local $a1 v128) (local $s v128)
    (local.set $n (i32.load offset=0 (local.get $geo)))
    (local.set $h (i32.load offset=4 (local.get $geo)))
    (local.set $w (i32.load offset=8 (local.get $geo)))
    (local.set $cin (i32.load offset=12 (local.get $geo)))
    (local.set $oh (i32.load offset=16 (local.get $geo)))
    (local.set $ow (i32.load offset=20 (local.get $geo)))
    (local.set $cout (i32.load offset=24 (local.get $geo)))
    (local.set $sh (i32.load offset=36 (local.get $geo)))
    (local.set $sw (i32.load offset=40 (local.get $geo)))
    (local.set $xStep (i32.shl (i32.mul (local.get $sw) (local.get $cin)) (i32.const 2)))
    (local.set $dStep (i32.shl (local.get $cout) (i32.const 2)))
    ;; accumulate onto dw (zeroed by the caller, then one image at a time)
    (local.set $a0 (v128.load (local.get $out)))
    (local.set $a1 (v128.load offset=16 (local.get $out)))
        (local.set $i (local.get $i0))
        (block $i_done
          (loop $i_loop
            (br_if $i_done (i32.ge_s (local.get $i) (local.get $i1)))
            (if (i32.lt_s (local.get $j0) (local.get $j1))
              (then
                (local.set $xp (i32.add (local.get $x) (i32.shl
                  (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $bb) (local.get $h))
                    (i32.add (i32.mul (local.get $i) (local.get $sh)) (local.get $offH))) (local.get $w))
                    (i32.add (i32.mul (local.get $j0) (local.get $sw)) (local.get $offW))) (local.get $cin)) (local.get $ci))
                  (i32.const 2))))
                (local.set $dp (i32.add (local.get $dy) (i32.shl
                  (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $bb) (local.get $oh)) (local.get $i))
                    (local.get $ow)) (local.get $j0)) (local.get $cout)) (local.get $co))
                  (i32.const 2))))
                (local.set $j (local.get $j0))
                (loop $j_loop
                  (local.set $s (v128.load32_splat (local.get $xp)))
                  (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load (local.get $dp)))))
                  (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $dp)))))
                  (local.set $xp (i32.add (local.get $xp) (local.get $xStep)))
                  (local.set $dp (i32.add (local.get $dp) (local.get $dStep)))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br_if $j_loop (i32.lt_s (local.get $j) (local.get $j1))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $i_loop)))
    (v128.store (local.get $out) (local.get $a0))
    (v128.store offset=16 (local.get $out) (local.get $a1)))

  ;; ---------------------------------------------------------------------------------------
  ;; Sub-pixel scatter for the strided input gradient: src [n, ys, xs, ch] holds phase (rh, rw)
  ;; of dx; row Y, column X of it is dx row Y*s + rh - top, column X*s + rw - left (when inside
  ;; dx [n, h, w, ch]). geo (int32): [n, ys, xs, ch, h, w, sh, sw, rh, rw, top, left]
  (func (export "phase_scatter") (param $src i32) (param $dst i32) (param $geo i32)
    (local $n i32) (local $ys i32) (local $xs i32) (local $ch i32) (local $h i32) (local $w i32)
    (local $sh i32) (local $sw i32) (local $rh i32) (local $rw i32) (local $top i32) (local $left i32)
    (local $b i32) (local $yy i32) (local $xx i32) (local $y i32) (local $x i32)
    (local $sp i32) (local $dp i32) (local $c i32) (local $c4 i32) (local $rowBytes i32)
    (local.set $n (i32.load offset=0 (local.get $geo)))
    (local.set $ys (i32.load offset=4 (local.get $geo)))
    (local.set $xs (i32.load offset=8 (local.get $geo)))
    (local.set $ch (i32.load offset=12 (local.get $geo)))
    (local.set $h (i32.load offset=16 (local.get $geo)))
    (local.set $w (i32.load offset=20 (local.get $geo)))
    (local.set $sh (i32.load offset=24 (local.get $geo)))
    (local.set $sw (i32.load offset=28 (local.get $geo)))
    (local.set $rh (i32.load offset=32 (local.get $geo)))
    (local.set $rw (i32.load offset=36 (local.get $geo)))
    (local.set $top (i32.load offset=40 (local.get $geo)))
    (local.set $left (i32.load offset=44 (local.get $geo)))
    (local.set $c4 (i32.and (local.get $ch) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $sp (local.get $src))
    (block $b_done
      (loop $b_loop
        (br_if $b_done (i32.ge_u (local.get $b) (local.get $n)))
        (local.set $yy (i32.const 0))
        (block $y_done
          (loop $y_loop
            (br_if $y_done (i32.ge_s (local.get $yy) (local.get $ys)))
            (local.set $y (i32.sub (i32.add (i32.mul (local.get $yy) (local.get $sh)) (local.get $rh)) (local.get $top)))
            (local.set $xx (i32.const 0))
            (block $x_done
              (loop $x_loop
                (br_if $x_done (i32.ge_s (local.get $xx) (local.get $xs)))
                (local.set $x (i32.sub (i32.add (i32.mul (local.get $xx) (local.get $sw)) (local.get $rw)) (local.get $left)))
                (if (i32.and
                      (i32.and (i32.ge_s (local.get $y) (i32.const 0)) (i32.lt_s (local.get $y) (local.get $h)))
                      (i32.and (i32.ge_s (local.get $x) (i32.const 0)) (i32.lt_s (local.get $x) (local.get $w))))
                  (then
                    (local.set $dp (i32.add (local.get $dst) (i32.mul (local.get $rowBytes)
                      (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $y)) (local.get $w))
                        (local.get $x)))))
                    (local.set $c (i32.const 0))
                    (block $v_done
                      (loop $v_loop
                        (br_if $v_done (i32.ge_u (local.get $c) (local.get $c4)))
                        (v128.store (i32.add (local.get $dp) (i32.shl (local.get $c) (i32.const 2)))
                          (v128.load (i32.add (local.get $sp) (i32.shl (local.get $c) (i32.const 2)))))
                        (local.set $c (i32.add (local.get $c) (i32.const 4)))
                        (br $v_loop)))
                    (block $s_done
                      (loop $s_loop
                        (br_if $s_done (i32.ge_u (local.get $c) (local.get $ch)))
                        (f32.store (i32.add (local.get $dp) (i32.shl (local.get $c) (i32.const 2)))
                          (f32.load (i32.add (local.get $sp) (i32.shl (local.get $c) (i32.const 2)))))
                        (local.set $c (i32.add (local.get $c) (i32.const 1)))
                        (br $s_loop)))))
                (local.set $sp (i32.add (local.get $sp) (local.get $rowBytes)))
                (local.set $xx (i32.add (local.get $xx) (i32.const 1)))
                (br $x_loop)))
            (local.set $yy (i32.add (local.get $yy) (i32.const 1)))
            (br $y_loop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $b_loop))))

  ;; ---------------------------------------------------------------------------------------
  ;; Batch norm in training (the layers' fused op, CsqBatchNormTraining and its gradient).
  ;;
  ;; bn_sums: per-channel sums of a shifted input over x [rows, ch] (shift [ch], e.g. x's first
  ;; row, keeps the one-pass variance accurate):
  ;;   tot1[c] += sum_r (x[r, c] - shift[c]),   tot2[c] += sum_r (x[r, c] - shift[c])^2
  ;; and, when $dy is not 0, instead the gradient sums
  ;;   tot1[c] += sum_r dy[r, c],               tot2[c] += sum_r dy[r, c] * (x[r, c] - shift[c])
  ;; Partial sums of 64 rows are float32 (acc1, acc2, zero on entry), totals float64.
  (func (export "bn_sums")
    (param $x i32) (param $dy i32) (param $rows i32) (param $ch i32) (param $shift i32)
    (param $acc1 i32) (param $acc2 i32) (param $tot1 i32) (param $tot2 i32)
    (local $r i32) (local $c i32) (local $c4 i32) (local $o i32) (local $rowBytes i32)
    (local $d v128) (local $g v128) (local $ds f32) (local $gs f32)
    (local.set $c4 (i32.and (local.get $ch) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $ch) (i32.const 2)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $v_done
          (loop $v_loop
            (br_if $v_done (i32.ge_u (local.get $c) (local.get $c4)))
            (local.set $o (i32.shl (local.get $c) (i32.const 2)))
            (local.set $d
              (f32x4.sub
                (v128.load (i32.add (local.get $x) (local.get $o)))
                (v128.load (i32.add (local.get $shift) (local.get $o)))))
            (local.set $g (local.get $d))
            (if (local.get $dy)
              (then (local.set $g (v128.load (i32.add (local.get $dy) (local.get $o))))))
            (v128.store (i32.add (local.get $acc1) (local.get $o))
              (f32x4.add (v128.load (i32.add (local.get $acc1) (local.get $o))) (local.get $g)))
            (v128.store (i32.add (local.get $acc2) (local.get $o))
              (f32x4.add
                (v128.load (i32.add (local.get $acc2) (local.get $o)))
                (f32x4.mul (local.get $g) (local.get $d))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $v_loop)))
        (block $s_done
          (loop $s_loop
            (br_if $s_done (i32.ge_u (local.get $c) (local.get $ch)))
            (local.set $o (i32.shl (local.get $c) (i32.const 2)))
            (local.set $ds
              (f32.sub
                (f32.load (i32.add (local.get $x) (local.get $o)))
                (f32.load (i32.add (local.get $shift) (local.get $o)))))
            (local.set $gs (local.get $ds))
            (if (local.get $dy)
              (then (local.set $gs (f32.load (i32.add (local.get $dy) (local.get $o))))))
            (f32.store (i32.add (local.get $acc1) (local.get $o))
              (f32.add (f32.load (i32.add (local.get $acc1) (local.get $o))) (local.get $gs)))
            (f32.store (i32.add (local.get $acc2) (local.get $o))
              (f32.add
                (f32.load (i32.add (local.get $acc2) (local.get $o)))
                (f32.mul (local.get $gs) (local.get $ds))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $s_loop)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (if (local.get $dy)
          (then (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (if (i32.eqz (i32.and (local.get $r) (i32.const 63)))
          (then
            (call $flush (local.get $acc1) (local.get $tot1) (local.get $ch))
            (call $flush (local.get $acc2) (local.get $tot2) (local.get $ch))))
        (br $rows_loop)))
    (call $flush (local.get $acc1) (local.get $tot1) (local.get $ch))
    (call $flush (local.get $acc2) (local.get $tot2) (local.get $ch)))

  ;; bn_train_dx: the input gradient of batch norm in training, from per-channel coefficients:
  ;;   dx[r, c] = a[c] * dy[r, c] + b[c] * (x[r, c] - mean[c]) + e[c]
  (func (export "bn_train_dx")
    (param $x i32) (param $dy i32) (param $dx i32) (param $rows i32) (param $ch i32)
    (param $mean i32) (param $a i32) (param $b i32) (param $e i32)
    (local $r i32) (local $c i32) (local $c4 i32) (local $o i32) (local $rowBytes i32)
    (local.set $c4 (i32.and (local.get $ch) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $ch) (i32.const 2)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $v_done
          (loop $v_loop
            (br_if $v_done (i32.ge_u (local.get $c) (local.get $c4)))
            (local.set $o (i32.shl (local.get $c) (i32.const 2)))
            (v128.store (i32.add (local.get $dx) (local.get $o))
              (f32x4.add
                (f32x4.add
                  (f32x4.mul
                    (v128.load (i32.add (local.get $a) (local.get $o)))
                    (v128.load (i32.add (local.get $dy) (local.get $o))))
                  (f32x4.mul
                    (v128.load (i32.add (local.get $b) (local.get $o)))
                    (f32x4.sub
                      (v128.load (i32.add (local.get $x) (local.get $o)))
                      (v128.load (i32.add (local.get $mean) (local.get $o))))))
                (v128.load (i32.add (local.get $e) (local.get $o)))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $v_loop)))
        (block $s_done
          (loop $s_loop
            (br_if $s_done (i32.ge_u (local.get $c) (local.get $ch)))
            (local.set $o (i32.shl (local.get $c) (i32.const 2)))
            (f32.store (i32.add (local.get $dx) (local.get $o))
              (f32.add
                (f32.add
                  (f32.mul
                    (f32.load (i32.add (local.get $a) (local.get $o)))
                    (f32.load (i32.add (local.get $dy) (local.get $o))))
                  (f32.mul
                    (f32.load (i32.add (local.get $b) (local.get $o)))
                    (f32.sub
                      (f32.load (i32.add (local.get $x) (local.get $o)))
                      (f32.load (i32.add (local.get $mean) (local.get $o))))))
                (f32.load (i32.add (local.get $e) (local.get $o)))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $s_loop)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
        (local.set $dx (i32.add (local.get $dx) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows_loop))))

  ;; ---------------------------------------------------------------------------------------
  ;; Max-pool gradient for 2x2 windows with stride 2 and no padding (the common pool), in one
  ;; pass that writes every dx of the covered rows and columns (no zeroing, no scatter):
  ;; x, dx [n, h, w, ch], dy [n, oh, ow, ch], 2 oh <= h, 2 ow <= w, ch % 4 == 0. The window's
  ;; first strict maximum (rows, then columns, starting from -inf as max_pool_grad) gets dy, the
  ;; other three 0; rows and columns no window covers are left to the caller.
  (func (export "max_pool_grad_2x2")
    (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $h i32) (param $w i32)
    (param $ch i32) (param $oh i32) (param $ow i32)
    (local $rows i32) (local $r i32) (local $j i32) (local $c i32) (local $rowBytes i32)
    (local $x0 i32) (local $x1 i32) (local $d0 i32) (local $d1 i32) (local $o i32) (local $pix i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $g v128)
    (local $b v128) (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128)
    (local $nh v128)
    (local.set $rowBytes (i32.shl (i32.mul (local.get $w) (local.get $ch)) (i32.const 2)))
    (local.set $pix (i32.shl (local.get $ch) (i32.const 2)))
    ;; output rows over all images: (b, i) -> input rows 2i, 2i+1 of image b
    (local.set $rows (i32.mul (local.get $n) (local.get $oh)))
    (block $r_done
      (loop $r_loop
        (br_if $r_done (i32.ge_u (local.get $r) (local.get $rows)))
        ;; byte offset of input row 2i of image b: (b h + 2 i) rowBytes
        (local.set $x0 (i32.mul
          (i32.add
            (i32.mul (i32.div_u (local.get $r) (local.get $oh)) (local.get $h))
            (i32.shl (i32.rem_u (local.get $r) (local.get $oh)) (i32.const 1)))
          (local.get $rowBytes)))
        (local.set $x1 (i32.add (local.get $x0) (local.get $rowBytes)))
        (local.set $j (i32.const 0))
        (block $j_done
          (loop $j_loop
            (br_if $j_done (i32.ge_u (local.get $j) (local.get $ow)))
            (local.set $c (i32.const 0))
            (block $c_done
              (loop $c_loop
                (br_if $c_done (i32.ge_u (local.get $c) (local.get $ch)))
                (local.set $o (i32.shl (local.get $c) (i32.const 2)))
                (local.set $d0 (i32.add (local.get $x0) (local.get $o)))
                (local.set $d1 (i32.add (local.get $x1) (local.get $o)))
                (local.set $v0 (v128.load (i32.add (local.get $x) (local.get $d0))))
                (local.set $v1 (v128.load (i32.add (local.get $x) (i32.add (local.get $d0) (local.get $pix)))))
                (local.set $v2 (v128.load (i32.add (local.get $x) (local.get $d1))))
                (local.set $v3 (v128.load (i32.add (local.get $x) (i32.add (local.get $d1) (local.get $pix)))))
                (local.set $g (v128.load (local.get $dy)))
                (local.set $b (f32x4.splat (f32.const -inf)))
                (local.set $g0 (f32x4.gt (local.get $v0) (local.get $b)))
                (local.set $b (v128.bitselect (local.get $v0) (local.get $b) (local.get $g0)))
                (local.set $g1 (f32x4.gt (local.get $v1) (local.get $b)))
                (local.set $b (v128.bitselect (local.get $v1) (local.get $b) (local.get $g1)))
                (local.set $g2 (f32x4.gt (local.get $v2) (local.get $b)))
                (local.set $b (v128.bitselect (local.get $v2) (local.get $b) (local.get $g2)))
                (local.set $g3 (f32x4.gt (local.get $v3) (local.get $b)))
                ;; winners: the last window position whose value beat the running maximum
                (local.set $nh (v128.not (local.get $g3)))
                (v128.store (i32.add (local.get $dx) (i32.add (local.get $d1) (local.get $pix)))
                  (v128.and (local.get $g) (local.get $g3)))
                (v128.store (i32.add (local.get $dx) (local.get $d1))
                  (v128.and (local.get $g) (v128.and (local.get $g2) (local.get $nh))))
                (local.set $nh (v128.andnot (local.get $nh) (local.get $g2)))
                (v128.store (i32.add (local.get $dx) (i32.add (local.get $d0) (local.get $pix)))
                  (v128.and (local.get $g) (v128.and (local.get $g1) (local.get $nh))))
                (local.set $nh (v128.andnot (local.get $nh) (local.get $g1)))
                (v128.store (i32.add (local.get $dx) (local.get $d0))
                  (v128.and (local.get $g) (v128.and (local.get $g0) (local.get $nh))))
                (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
                (local.set $c (i32.add (local.get $c) (i32.const 4)))
                (br $c_loop)))
            (local.set $x0 (i32.add (local.get $x0) (i32.shl (local.get $pix) (i32.const 1))))
            (local.set $x1 (i32.add (local.get $x1) (i32.shl (local.get $pix) (i32.const 1))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $j_loop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $r_loop))))

  ;; ---------------------------------------------------------------------------------------
  ;; CSQ soft weight (spec 1), fused. p, n [rows, bits] (bits a multiple of 4), c [bits]
  ;; (c_i = s e_i gate_i, computed by the caller):
  ;;   w[r] = sum_i c_i (sigma(beta p[r, i]) - sigma(beta n[r, i]))
  ;; sigma(x) = 1 / (1 + exp(-x)), exp by range reduction (x = k ln2 + r) and the Cephes expf
  ;; polynomial: relative error ~1e-7 over [-87, 88], the range it clamps to.
  (func $sigmoid4 (param $x v128) (result v128)
    (local $k v128) (local $r v128) (local $y v128)
    (local.set $x
      (f32x4.min
        (f32x4.max (f32x4.neg (local.get $x)) (f32x4.splat (f32.const -87)))
        (f32x4.splat (f32.const 88))))
    (local.set $k (f32x4.nearest (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504088896341)))))
    (local.set $r
      (f32x4.sub
        (f32x4.sub (local.get $x) (f32x4.mul (local.get $k) (f32x4.splat (f32.const 0.693359375))))
        (f32x4.mul (local.get $k) (f32x4.splat (f32.const -2.12194440e-4)))))
    (local.set $y (f32x4.splat (f32.const 1.9875691500e-4)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (f32x4.splat (f32.const 1.3981999507e-3))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (f32x4.splat (f32.const 8.3334519073e-3))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (f32x4.splat (f32.const 4.1665795894e-2))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (f32x4.splat (f32.const 1.6666665459e-1))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (f32x4.splat (f32.const 5.0000001201e-1))))
    (local.set $y
      (f32x4.add
        (f32x4.add
          (f32x4.mul (local.get $y) (f32x4.mul (local.get $r) (local.get $r)))
          (local.get $r))
        (f32x4.splat (f32.const 1))))
    ;; exp(x) = y 2^k, 2^k built in the exponent field (k in [-126, 127])
    (local.set $y
      (f32x4.mul (local.get $y)
        (i32x4.shl
          (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $k)) (i32x4.splat (i32.const 127)))
          (i32.const 23))))
    (f32x4.div (f32x4.splat (f32.const 1)) (f32x4.add (f32x4.splat (f32.const 1)) (local.get $y))))

  (func (export "soft_weight")
    (param $p i32) (param $n i32) (param $c i32) (param $w i32) (param $rows i32)
    (param $bits i32) (param $beta f32) (param $spOut i32) (param $snOut i32)
    (local $r i32) (local $o i32) (local $rowBytes i32) (local $bv v128) (local $acc v128)
    (local $sp v128) (local $sn v128)
    (local.set $bv (f32x4.splat (local.get $beta)))
    (local.set $rowBytes (i32.shl (local.get $bits) (i32.const 2)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $o (i32.const 0))
        (block $i_done
          (loop $i_loop
            (br_if $i_done (i32.ge_u (local.get $o) (local.get $rowBytes)))
            (local.set $sp
              (call $sigmoid4
                (f32x4.mul (local.get $bv) (v128.load (i32.add (local.get $p) (local.get $o))))))
            (local.set $sn
              (call $sigmoid4
                (f32x4.mul (local.get $bv) (v128.load (i32.add (local.get $n) (local.get $o))))))
            (v128.store (i32.add (local.get $spOut) (local.get $o)) (local.get $sp))
            (v128.store (i32.add (local.get $snOut) (local.get $o)) (local.get $sn))
            (local.set $acc
              (f32x4.add (local.get $acc)
                (f32x4.mul
                  (v128.load (i32.add (local.get $c) (local.get $o)))
                  (f32x4.sub (local.get $sp) (local.get $sn)))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $i_loop)))
        (f32.store (local.get $w)
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
        (local.set $n (i32.add (local.get $n) (local.get $rowBytes)))
        (local.set $spOut (i32.add (local.get $spOut) (local.get $rowBytes)))
        (local.set $snOut (i32.add (local.get $snOut) (local.get $rowBytes)))
        (local.set $w (i32.add (local.get $w) (i32.const 4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows_loop))))

  ;; The forward also stores sp = sigma(beta p), sn = sigma(beta n) ([rows, bits]) for:
  ;; its gradient, given dw [rows] and sp, sn (passed as $p, $n):
  ;;   dp[r, i] =  dw[r] c_i beta sigma(beta p) (1 - sigma(beta p))
  ;;   dn[r, i] = -dw[r] c_i beta sigma(beta n) (1 - sigma(beta n))
  ;;   tot[i]  += sum_r dw[r] (sigma(beta p[r, i]) - sigma(beta n[r, i]))   (dc, float64)
  ;; with float32 partials acc[bits] (zero on entry) flushed into tot every 64 rows.
  (func (export "soft_weight_grad")
    (param $p i32) (param $n i32) (param $c i32) (param $dw i32) (param $dp i32) (param $dn i32)
    (param $rows i32) (param $bits i32) (param $beta f32) (param $acc i32) (param $tot i32)
    (local $r i32) (local $o i32) (local $rowBytes i32) (local $bv v128) (local $g v128)
    (local $sp v128) (local $sn v128) (local $gc v128) (local $one v128)
    (local.set $bv (f32x4.splat (local.get $beta)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $rowBytes (i32.shl (local.get $bits) (i32.const 2)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $g (v128.load32_splat (local.get $dw)))
        (local.set $o (i32.const 0))
        (block $i_done
          (loop $i_loop
            (br_if $i_done (i32.ge_u (local.get $o) (local.get $rowBytes)))
            (local.set $sp (v128.load (i32.add (local.get $p) (local.get $o))))
            (local.set $sn (v128.load (i32.add (local.get $n) (local.get $o))))
            (local.set $gc
              (f32x4.mul (local.get $g)
                (f32x4.mul (local.get $bv) (v128.load (i32.add (local.get $c) (local.get $o))))))
            (v128.store (i32.add (local.get $dp) (local.get $o))
              (f32x4.mul (local.get $gc)
                (f32x4.mul (local.get $sp) (f32x4.sub (local.get $one) (local.get $sp)))))
            (v128.store (i32.add (local.get $dn) (local.get $o))
              (f32x4.neg
                (f32x4.mul (local.get $gc)
                  (f32x4.mul (local.get $sn) (f32x4.sub (local.get $one) (local.get $sn))))))
            (v128.store (i32.add (local.get $acc) (local.get $o))
              (f32x4.add
                (v128.load (i32.add (local.get $acc) (local.get $o)))
                (f32x4.mul (local.get $g) (f32x4.sub (local.get $sp) (local.get $sn)))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $i_loop)))
        (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
        (local.set $n (i32.add (local.get $n) (local.get $rowBytes)))
        (local.set $dp (i32.add (local.get $dp) (local.get $rowBytes)))
        (local.set $dn (i32.add (local.get $dn) (local.get $rowBytes)))
        (local.set $dw (i32.add (local.get $dw) (i32.const 4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (if (i32.eqz (i32.and (local.get $r) (i32.const 63)))
          (then (call $flush (local.get $acc) (local.get $tot) (local.get $bits))))
        (br $rows_loop)))
    (call $flush (local.get $acc) (local.get $tot) (local.get $bits)))

  ;; ---------------------------------------------------------------------------------------
  ;; SGD with momentum and weight decay (PyTorch's order, as @csq/trainer's SgdMomentum), one
  ;; pass for i < n:  d = g + v wd;  b' = b mu + d;  v' = v - b' lr
  (func (export "sgd_momentum")
    (param $v i32) (param $g i32) (param $b i32) (param $vOut i32) (param $bOut i32) (param $n i32)
    (param $lr f32) (param $mu f32) (param $wd f32)
    (local $i i32) (local $n4 i32) (local $o i32) (local $vv v128) (local $bv v128)
    (local $lrv v128) (local $muv v128) (local $wdv v128) (local $vs f32) (local $bs f32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $lrv (f32x4.splat (local.get $lr)))
    (local.set $muv (f32x4.splat (local.get $mu)))
    (local.set $wdv (f32x4.splat (local.get $wd)))
    (block $v_done
      (loop $v_loop
        (br_if $v_done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $vv (v128.load (i32.add (local.get $v) (local.get $o))))
        (local.set $bv
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $b) (local.get $o))) (local.get $muv))
            (f32x4.add
              (v128.load (i32.add (local.get $g) (local.get $o)))
              (f32x4.mul (local.get $vv) (local.get $wdv)))))
        (v128.store (i32.add (local.get $bOut) (local.get $o)) (local.get $bv))
        (v128.store (i32.add (local.get $vOut) (local.get $o))
          (f32x4.sub (local.get $vv) (f32x4.mul (local.get $bv) (local.get $lrv))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $v_loop)))
    (block $s_done
      (loop $s_loop
        (br_if $s_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $vs (f32.load (i32.add (local.get $v) (local.get $o))))
        (local.set $bs
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $b) (local.get $o))) (local.get $mu))
            (f32.add
              (f32.load (i32.add (local.get $g) (local.get $o)))
              (f32.mul (local.get $vs) (local.get $wd)))))
        (f32.store (i32.add (local.get $bOut) (local.get $o)) (local.get $bs))
        (f32.store (i32.add (local.get $vOut) (local.get $o))
          (f32.sub (local.get $vs) (f32.mul (local.get $bs) (local.get $lr))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $s_loop))))
)
