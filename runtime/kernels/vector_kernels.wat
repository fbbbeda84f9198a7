;; gossamer's vector kernels: WebAssembly with 128-bit SIMD (four float32 lanes).
;;
;; Built by scripts/build_kernels.ts into _vector_kernels_wasm.ts (the bytes, base64), which
;; vector_kernels.ts loads; kernels_build_test.ts checks the two agree. Every kernel gives the
;; same bits as the JavaScript loop it replaces (vector_kernels.ts keeps those as reference and
;; fallback): f32x4.add is an IEEE float32 addition per lane, and a JavaScript
;; `a[i] + b[i]` stored into a Float32Array is one too (a float64 sum of two float32 values
;; rounded to float32 is the float32 sum: 53 ≥ 2·24 + 2). Each sum keeps the operand order and
;; the summation order of the JavaScript loop.
;;
;; The memory is imported and shared, so one module serves two uses: a private scratch memory
;; that vectors are copied through, and the shared-memory all-reduce's arena itself (zero copy).
;; Pointers and lengths are in bytes and float32 elements; no alignment is assumed.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; out[i] = a[i] + b[i] for i < n; out may be a or b (each lane is loaded before it is stored).
  (func (export "add_f32") (param $out i32) (param $a i32) (param $b i32) (param $n i32)
    (local $end i32) (local $vend i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $out)
      (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    ;; Eight lanes a turn (two vectors), then four, then one at a time.
    (block $done8
      (loop $eight
        (br_if $done8 (i32.ge_u (local.get $out) (local.get $vend)))
        (v128.store (local.get $out)
          (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
        (v128.store offset=16 (local.get $out)
          (f32x4.add (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b))))
        (local.set $out (i32.add (local.get $out) (i32.const 32)))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br $eight)))
    (if (i32.ge_u (i32.sub (local.get $end) (local.get $out)) (i32.const 16))
      (then
        (v128.store (local.get $out)
          (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))))
    (block $done1
      (loop $one
        (br_if $done1 (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out)
          (f32.add (f32.load (local.get $a)) (f32.load (local.get $b))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $one))))

  ;; The ring all-reduce's sum over `ranks` rows spaced `stride` bytes apart from `rows`:
  ;; out[i] = ((row(first)[i] + row(first+1)[i]) + row(first+2)[i]) + … + row(first−1)[i],
  ;; row(r) = rows + (r mod ranks)·stride, each addition rounded to float32 as in the ring.
  ;; ranks ≥ 2. The partial sum stays in a register: one pass over each row, one store.
  (func (export "ring_sum")
    (param $out i32) (param $rows i32) (param $stride i32) (param $ranks i32) (param $first i32)
    (param $n i32)
    (local $end i32) (local $vend i32) (local $at i32) (local $k i32) (local $row i32)
    (local $acc v128) (local $s f32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $out)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    ;; $at: the byte offset of the current lanes within every row.
    (local.set $at (i32.const 0))
    (block $done4
      (loop $four
        (br_if $done4 (i32.ge_u (local.get $out) (local.get $vend)))
        (local.set $row (local.get $first))
        (local.set $acc (v128.load (i32.add (local.get $at)
          (i32.add (local.get $rows) (i32.mul (local.get $row) (local.get $stride))))))
        (local.set $k (i32.const 1))
        (loop $ranks
          (local.set $row (i32.add (local.get $row) (i32.const 1)))
          (if (i32.eq (local.get $row) (local.get $ranks)) (then (local.set $row (i32.const 0))))
          (local.set $acc (f32x4.add (local.get $acc)
            (v128.load (i32.add (local.get $at)
              (i32.add (local.get $rows) (i32.mul (local.get $row) (local.get $stride)))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $ranks (i32.lt_u (local.get $k) (local.get $ranks))))
        (v128.store (local.get $out) (local.get $acc))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $four)))
    (block $done1
      (loop $one
        (br_if $done1 (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $row (local.get $first))
        (local.set $s (f32.load (i32.add (local.get $at)
          (i32.add (local.get $rows) (i32.mul (local.get $row) (local.get $stride))))))
        (local.set $k (i32.const 1))
        (loop $ranks1
          (local.set $row (i32.add (local.get $row) (i32.const 1)))
          (if (i32.eq (local.get $row) (local.get $ranks)) (then (local.set $row (i32.const 0))))
          (local.set $s (f32.add (local.get $s)
            (f32.load (i32.add (local.get $at)
              (i32.add (local.get $rows) (i32.mul (local.get $row) (local.get $stride)))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $ranks1 (i32.lt_u (local.get $k) (local.get $ranks))))
        (f32.store (local.get $out) (local.get $s))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $one))))

  ;; QSGD's sum of squares of a bucket: Σ v_i² in float64, in index order (each float32 square is
  ;; exact in float64; the order of the additions is the JavaScript loop's, so the bits are too).
  (func $sum_squares (param $at i32) (param $n i32) (result f64)
    (local $end i32) (local $sum f64) (local $v f64)
    (local.set $end (i32.add (local.get $at) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $v (f64.promote_f32 (f32.load (local.get $at))))
        (local.set $sum (f64.add (local.get $sum) (f64.mul (local.get $v) (local.get $v))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $next)))
    (local.get $sum))

  ;; QSGD's sums of squares of `count` whole buckets of `bucket` values from $at, as float64 at
  ;; $out: each bucket's sum in index order, as $sum_squares (so the same bits), but four
  ;; buckets at a time, two to a float64x2 accumulator, so that four addition chains overlap
  ;; instead of one waiting on each addition. Leftover buckets go one at a time.
  (func $bucket_squares (param $at i32) (param $bucket i32) (param $count i32)
    (param $out i32)
    (local $stride i32) (local $k i32) (local $j i32) (local $p i32) (local $end i32)
    (local $a v128) (local $b v128) (local $x v128) (local $y v128)
    (local.set $stride (i32.shl (local.get $bucket) (i32.const 2)))
    (block $done4
      (loop $four
        (br_if $done4 (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $count)))
        (local.set $a (v128.const f64x2 0 0))
        (local.set $b (v128.const f64x2 0 0))
        (local.set $p (local.get $at))
        (local.set $end (i32.add (local.get $at) (local.get $stride)))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
            ;; Value j of buckets k, k+1 (x) and k+2, k+3 (y).
            (local.set $x (f64x2.replace_lane 1
              (f64x2.splat (f64.promote_f32 (f32.load (local.get $p))))
              (f64.promote_f32 (f32.load (i32.add (local.get $p) (local.get $stride))))))
            (local.set $y (f64x2.replace_lane 1
              (f64x2.splat (f64.promote_f32 (f32.load
                (i32.add (local.get $p) (i32.shl (local.get $stride) (i32.const 1))))))
              (f64.promote_f32 (f32.load
                (i32.add (local.get $p) (i32.mul (local.get $stride) (i32.const 3)))))))
            (local.set $a (f64x2.add (local.get $a) (f64x2.mul (local.get $x) (local.get $x))))
            (local.set $b (f64x2.add (local.get $b) (f64x2.mul (local.get $y) (local.get $y))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $next)))
        (v128.store (local.get $out) (local.get $a))
        (v128.store offset=16 (local.get $out) (local.get $b))
        (local.set $out (i32.add (local.get $out) (i32.const 32)))
        (local.set $at (i32.add (local.get $at) (i32.shl (local.get $stride) (i32.const 2))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $four)))
    (block $done1
      (loop $one
        (br_if $done1 (i32.ge_u (local.get $k) (local.get $count)))
        (f64.store (local.get $out) (call $sum_squares (local.get $at) (local.get $bucket)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (local.set $at (i32.add (local.get $at) (local.get $stride)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $one))))

  ;; QSGD's stochastic rounding of one bucket, with its random draws: for each value in order, the
  ;; next xoshiro128** word u (the state is four i32 at $state, advanced here exactly as
  ;; Random.fillUint32 advances it) and level = min(levels, trunc(|v|·scale + u·2⁻³²)), stored
  ;; as a u16 at $out. Four values a turn: the generator's four steps are one serial chain, but
  ;; each word is rotl(s1·5, 7)·9 of its step's s1, so the four s1 are gathered in one vector and
  ;; made words together; the rounding then takes the four values two float64 lanes at a time
  ;; (the same float64 operations as JavaScript's, lane by lane). The words never go to memory.
  ;; trunc_sat equals JavaScript's `| 0` here: the sum is ≥ 0 or NaN, and below 2³¹ (|v| ≤ the
  ;; bucket's norm).
  (func $qsgd_levels
    (param $at i32) (param $n i32) (param $scale f64) (param $levels i32) (param $state i32)
    (param $out i32)
    (local $end i32) (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $t i32) (local $level i32) (local $vend i32)
    (local $v v128) (local $u v128) (local $scales v128) (local $lo v128) (local $hi v128)
    (local $r v128)
    (local.set $s0 (i32.load (local.get $state)))
    (local.set $s1 (i32.load offset=4 (local.get $state)))
    (local.set $s2 (i32.load offset=8 (local.get $state)))
    (local.set $s3 (i32.load offset=12 (local.get $state)))
    (local.set $scales (f64x2.splat (local.get $scale)))
    (local.set $end (i32.add (local.get $at) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $at)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4
      (loop $four
        (br_if $done4 (i32.ge_u (local.get $at) (local.get $vend)))
        ;; Four steps of the generator, each step's s1 into a lane of $r.
        (local.set $r (i32x4.splat (local.get $s1)))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        (local.set $r (i32x4.replace_lane 1 (local.get $r) (local.get $s1)))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        (local.set $r (i32x4.replace_lane 2 (local.get $r) (local.get $s1)))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        (local.set $r (i32x4.replace_lane 3 (local.get $r) (local.get $s1)))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        ;; The four words, rotl(s1·5, 7)·9 lane by lane, and the four levels.
        (local.set $r (i32x4.mul (local.get $r) (i32x4.splat (i32.const 5))))
        (local.set $u (i32x4.mul
          (v128.or (i32x4.shl (local.get $r) (i32.const 7)) (i32x4.shr_u (local.get $r) (i32.const 25)))
          (i32x4.splat (i32.const 9))))
        (local.set $v (v128.load (local.get $at)))
        ;; Two float64 lanes at a time: y = |v|·scale + u·2⁻³², as JavaScript computes it (u·2⁻³²
        ;; is exact: the float64 1 + u·2⁻³², built from its bits, minus 1). Then trunc(y), which is
        ;; floor(max(y, 0)) for the y that occur (≥ 0 or NaN, and below 2³¹): pmax turns a NaN into
        ;; 0 as `| 0` does, and adding 2⁵² to the integer puts it in the low 32 bits, exactly.
        (local.set $lo (f64x2.add (f64x2.floor (f64x2.pmax (v128.const f64x2 0 0) (f64x2.add
          (f64x2.mul (f64x2.abs (f64x2.promote_low_f32x4 (local.get $v))) (local.get $scales))
          (f64x2.sub
            (v128.or (i64x2.shl (i64x2.extend_low_i32x4_u (local.get $u)) (i32.const 20))
              (v128.const i64x2 0x3ff0000000000000 0x3ff0000000000000))
            (f64x2.splat (f64.const 1))))))
          (f64x2.splat (f64.const 0x1p52))))
        (local.set $v (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
          (local.get $v) (local.get $v)))
        (local.set $hi (f64x2.add (f64x2.floor (f64x2.pmax (v128.const f64x2 0 0) (f64x2.add
          (f64x2.mul (f64x2.abs (f64x2.promote_low_f32x4 (local.get $v))) (local.get $scales))
          (f64x2.sub
            (v128.or (i64x2.shl (i64x2.extend_high_i32x4_u (local.get $u)) (i32.const 20))
              (v128.const i64x2 0x3ff0000000000000 0x3ff0000000000000))
            (f64x2.splat (f64.const 1))))))
          (f64x2.splat (f64.const 0x1p52))))
        (local.set $v (i32x4.min_s
          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $lo) (local.get $hi))
          (i32x4.splat (local.get $levels))))
        (i64.store (local.get $out)
          (i64x2.extract_lane 0 (i16x8.narrow_i32x4_u (local.get $v) (local.get $v))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $four)))
    ;; The last values one at a time: the word, the level, the state's step.
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $level (i32.trunc_sat_f64_s
          (f64.add
            (f64.mul (f64.abs (f64.promote_f32 (f32.load (local.get $at)))) (local.get $scale))
            (f64.mul
              (f64.convert_i32_u (i32.mul
                (i32.rotl (i32.mul (local.get $s1) (i32.const 5)) (i32.const 7)) (i32.const 9)))
              (f64.const 0x1p-32)))))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        (i32.store16 (local.get $out)
          (select (local.get $levels) (local.get $level)
            (i32.gt_s (local.get $level) (local.get $levels))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 2)))
        (br $next)))
    (i32.store (local.get $state) (local.get $s0))
    (i32.store offset=4 (local.get $state) (local.get $s1))
    (i32.store offset=8 (local.get $state) (local.get $s2))
    (i32.store offset=12 (local.get $state) (local.get $s3)))

  ;; QSGD's norms and levels of a whole vector of $d values from $at, in buckets of $bucket, in
  ;; one call: what vector_kernels.ts's levelsInScratch did bucket by bucket from JavaScript. Four
  ;; whole buckets at a time, their sums of squares first (bucket_squares, into 32 bytes at
  ;; $sums), so that each bucket's values are in the cache when its levels are rounded; then per
  ;; bucket the norm f32(√sum) at $norms (float32) and, for a non-zero norm, the levels with
  ;; scale levels/norm (the JavaScript `levels / norm`, in float64) and the stream's draws
  ;; (qsgd_levels), or, for a zero norm, zero levels and no draws. The last buckets (fewer than
  ;; four whole ones, and a shorter one) go one at a time.
  (func (export "qsgd_quantize")
    (param $at i32) (param $d i32) (param $bucket i32) (param $levels i32) (param $state i32)
    (param $norms i32) (param $out i32) (param $sums i32) (param $width i32) (param $code i32)
    (local $b i32) (local $k i32) (local $whole i32) (local $n i32) (local $group i32)
    (local $byte i32) (local $signBytes i32)
    (local.set $whole (i32.div_u (local.get $d) (local.get $bucket)))
    (local.set $signBytes (i32.shr_u (i32.add (local.get $d) (i32.const 7)) (i32.const 3)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (i32.mul (local.get $b) (local.get $bucket)) (local.get $d)))
        ;; This turn's buckets: four whole ones, or one (whole or the shorter last).
        (if (i32.le_u (i32.add (local.get $b) (i32.const 4)) (local.get $whole))
          (then
            (local.set $group (i32.const 4))
            (call $bucket_squares (local.get $at) (local.get $bucket) (i32.const 4) (local.get $sums)))
          (else
            (local.set $group (i32.const 1))
            (local.set $n (i32.sub (local.get $d) (i32.mul (local.get $b) (local.get $bucket))))
            (if (i32.gt_u (local.get $n) (local.get $bucket)) (then (local.set $n (local.get $bucket))))
            (f64.store (local.get $sums) (call $sum_squares (local.get $at) (local.get $n)))))
        (local.set $k (i32.const 0))
        (block $group_done
          (loop $each
            (br_if $group_done (i32.ge_u (local.get $k) (local.get $group)))
            (local.set $n (i32.sub (local.get $d) (i32.mul (local.get $b) (local.get $bucket))))
            (if (i32.gt_u (local.get $n) (local.get $bucket)) (then (local.set $n (local.get $bucket))))
            (call $bucket_levels (local.get $at) (local.get $n) (local.get $levels)
              (f64.load (i32.add (local.get $sums) (i32.shl (local.get $k) (i32.const 3))))
              (local.get $state) (local.get $norms) (local.get $out))
            ;; With $code, the bucket's sign bits and packed levels too, while they are in the
            ;; cache (each bucket starts on a whole byte of both: vector_kernels.ts checks).
            (if (local.get $code)
              (then
                (local.set $byte (i32.shr_u (i32.mul (local.get $b) (local.get $bucket)) (i32.const 3)))
                (call $sign_bits (local.get $at) (local.get $n)
                  (i32.add (local.get $code) (local.get $byte)))
                (call $pack_levels (local.get $out) (local.get $n) (local.get $width)
                  (i32.add (i32.add (local.get $code) (local.get $signBytes))
                    (i32.mul (local.get $byte) (local.get $width))))))
            (local.set $at (i32.add (local.get $at) (i32.shl (local.get $n) (i32.const 2))))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 1))))
            (local.set $norms (i32.add (local.get $norms) (i32.const 4)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $each)))
        (br $next))))

  ;; One bucket of qsgd_quantize: its norm from its sum of squares, stored at $norm, then its
  ;; levels (drawing from the stream) or, for a zero norm, zeros.
  (func $bucket_levels
    (param $at i32) (param $n i32) (param $levels i32) (param $sum f64) (param $state i32)
    (param $norm i32) (param $out i32)
    (local $f f32)
    (local.set $f (f32.demote_f64 (f64.sqrt (local.get $sum))))
    (f32.store (local.get $norm) (local.get $f))
    (if (f32.eq (local.get $f) (f32.const 0))
      (then (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $n) (i32.const 1))))
      (else
        (call $qsgd_levels (local.get $at) (local.get $n)
          (f64.div (f64.convert_i32_s (local.get $levels)) (f64.promote_f32 (local.get $f)))
          (local.get $levels) (local.get $state) (local.get $out)))))

  ;; QSGD's decode of values [$j, $end) of one bucket: target[j] += unit · (±level_j), the level
  ;; `width` bits at bit j·width of the levels (read as a little-endian i32 from its first byte:
  ;; width ≤ 16 fits with the shift ≤ 7, so three bytes of slack must follow the code), the sign
  ;; bit j of the signs. The product and the sum in float64 as in JavaScript; a float32 target
  ;; ($f32 ≠ 0) is read as float64 and the sum rounded to float32 on store, as a Float32Array
  ;; element assignment does. Scalar: each value's bits sit at their own offset.
  (func $qsgd_decode (export "qsgd_decode")
    (param $j i32) (param $end i32) (param $unit f64) (param $width i32) (param $levelsAt i32)
    (param $signsAt i32) (param $target i32) (param $f32 i32)
    (local $bit i32) (local $mask i32) (local $level i32) (local $negative i32) (local $x f64)
    (local $at i32)
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $width)) (i32.const 1)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $end)))
        (local.set $bit (i32.mul (local.get $j) (local.get $width)))
        (local.set $level (i32.and
          (i32.shr_u
            (i32.load (i32.add (local.get $levelsAt) (i32.shr_u (local.get $bit) (i32.const 3))))
            (i32.and (local.get $bit) (i32.const 7)))
          (local.get $mask)))
        (local.set $negative (i32.sub (i32.const 0) (i32.and
          (i32.shr_u
            (i32.load8_u (i32.add (local.get $signsAt) (i32.shr_u (local.get $j) (i32.const 3))))
            (i32.and (local.get $j) (i32.const 7)))
          (i32.const 1))))
        (local.set $x (f64.mul (local.get $unit) (f64.convert_i32_s
          (i32.sub (i32.xor (local.get $level) (local.get $negative)) (local.get $negative)))))
        (if (local.get $f32)
          (then
            (local.set $at (i32.add (local.get $target) (i32.shl (local.get $j) (i32.const 2))))
            (f32.store (local.get $at) (f32.demote_f64
              (f64.add (f64.promote_f32 (f32.load (local.get $at))) (local.get $x)))))
          (else
            (local.set $at (i32.add (local.get $target) (i32.shl (local.get $j) (i32.const 3))))
            (f64.store (local.get $at) (f64.add (f64.load (local.get $at)) (local.get $x)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next))))

  ;; QSGD's decode of a whole code at $code (its norms, signs and levels, as qsgd.ts lays them out)
  ;; added to the float64 vector at $target: target[j] += unit_b · (±level_j), with each bucket's
  ;; unit_b = scale·norm_b/levels (JavaScript's `scale * norms[b] / levels`, left to right) and
  ;; buckets whose unit is 0 skipped, as dequantizeInto does. Three bytes of slack must follow the
  ;; code. Up to 8 bits a level, four values a turn: their levels start at bit 0 or 4 of a byte
  ;; (j is a multiple of 4), so one 32-bit read holds them (4·width + 4 ≤ 32, or width 8). The
  ;; levels and the signs spread over four lanes by multiplying (lane k shifted left so that its
  ;; field ends at bit 31) and shifting right; the sum (±level as float64, times the unit, plus
  ;; the target) two lanes at a time, the same float64 operations as the scalar loop's.
  (func (export "qsgd_add_code")
    (param $code i32) (param $d i32) (param $levels i32) (param $bucket i32) (param $width i32)
    (param $scale f64) (param $target i32)
    (local $buckets i32) (local $signsAt i32) (local $levelsAt i32) (local $b i32) (local $j i32)
    (local $end i32) (local $unit f64) (local $four i32) (local $bit i32) (local $down i32)
    (local $spread v128) (local $units v128) (local $l v128) (local $negative v128) (local $at i32)
    (local.set $buckets (i32.div_u (i32.sub (i32.add (local.get $d) (local.get $bucket)) (i32.const 1))
      (local.get $bucket)))
    (local.set $signsAt (i32.add (local.get $code) (i32.shl (local.get $buckets) (i32.const 2))))
    (local.set $levelsAt (i32.add (local.get $signsAt)
      (i32.shr_u (i32.add (local.get $d) (i32.const 7)) (i32.const 3))))
    ;; Lane k's multiplier 2^(32 − (k+1)·width): its field moves to the top bits, the fields
    ;; above it out; then a shift right by 32 − width.
    (local.set $down (i32.sub (i32.const 32) (local.get $width)))
    (local.set $spread (i32x4.replace_lane 3 (i32x4.replace_lane 2 (i32x4.replace_lane 1
      (i32x4.splat (i32.shl (i32.const 1) (local.get $down)))
      (i32.shl (i32.const 1) (i32.sub (local.get $down) (local.get $width))))
      (i32.shl (i32.const 1) (i32.sub (local.get $down) (i32.shl (local.get $width) (i32.const 1)))))
      (i32.shl (i32.const 1) (i32.sub (i32.const 32) (i32.shl (local.get $width) (i32.const 2))))))
    (local.set $four (i32.le_u (local.get $width) (i32.const 8)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $b) (local.get $buckets)))
        (local.set $j (i32.mul (local.get $b) (local.get $bucket)))
        (local.set $end (i32.add (local.get $j) (local.get $bucket)))
        (if (i32.gt_u (local.get $end) (local.get $d)) (then (local.set $end (local.get $d))))
        (local.set $unit (f64.div
          (f64.mul (local.get $scale)
            (f64.promote_f32 (f32.load (i32.add (local.get $code) (i32.shl (local.get $b) (i32.const 2))))))
          (f64.convert_i32_s (local.get $levels))))
        (if (f64.ne (local.get $unit) (f64.const 0))
          (then
            (if (local.get $four)
              (then
                ;; One at a time up to a multiple of four, then four a turn.
                (local.set $at (i32.and (i32.add (local.get $j) (i32.const 3)) (i32.const -4)))
                (if (i32.gt_u (local.get $at) (local.get $end)) (then (local.set $at (local.get $end))))
                (call $qsgd_decode (local.get $j) (local.get $at) (local.get $unit) (local.get $width)
                  (local.get $levelsAt) (local.get $signsAt) (local.get $target) (i32.const 0))
                (local.set $j (local.get $at))
                (local.set $units (f64x2.splat (local.get $unit)))
                (block $fours_done
                  (loop $fours
                    (br_if $fours_done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $end)))
                    (local.set $bit (i32.mul (local.get $j) (local.get $width)))
                    (local.set $l (i32x4.shr_u
                      (i32x4.mul (local.get $spread) (i32x4.splat (i32.shr_u
                        (i32.load (i32.add (local.get $levelsAt) (i32.shr_u (local.get $bit) (i32.const 3))))
                        (i32.and (local.get $bit) (i32.const 7)))))
                      (local.get $down)))
                    ;; The four sign bits as 0 or −1: bit k to the top of lane k, then shifted
                    ;; down with the sign.
                    (local.set $negative (i32x4.shr_s
                      (i32x4.mul (v128.const i32x4 0x80000000 0x40000000 0x20000000 0x10000000)
                        (i32x4.splat (i32.shr_u
                          (i32.load8_u (i32.add (local.get $signsAt) (i32.shr_u (local.get $j) (i32.const 3))))
                          (i32.and (local.get $j) (i32.const 7)))))
                      (i32.const 31)))
                    (local.set $l (i32x4.sub (v128.xor (local.get $l) (local.get $negative))
                      (local.get $negative)))
                    (local.set $at (i32.add (local.get $target) (i32.shl (local.get $j) (i32.const 3))))
                    (v128.store (local.get $at) (f64x2.add (v128.load (local.get $at))
                      (f64x2.mul (local.get $units) (f64x2.convert_low_i32x4_s (local.get $l)))))
                    (v128.store offset=16 (local.get $at) (f64x2.add (v128.load offset=16 (local.get $at))
                      (f64x2.mul (local.get $units) (f64x2.convert_low_i32x4_s
                        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                          (local.get $l) (local.get $l))))))
                    (local.set $j (i32.add (local.get $j) (i32.const 4)))
                    (br $fours)))))
            ;; The rest (and every value at 9 to 16 bits) one at a time.
            (call $qsgd_decode (local.get $j) (local.get $end) (local.get $unit) (local.get $width)
              (local.get $levelsAt) (local.get $signsAt) (local.get $target) (i32.const 0))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $each))))

  ;; The float32 mean of a float64 sum: out[j] = f32(sum[j] / n) for j < $d, as JavaScript's
  ;; `mean[j] = sum[j] / n` into a Float32Array (the division in float64, one rounding on store).
  (func (export "mean_f64_to_f32") (param $sum i32) (param $d i32) (param $n f64) (param $out i32)
    (local $end i32) (local $ns v128)
    (local.set $ns (f64x2.splat (local.get $n)))
    (local.set $end (i32.add (local.get $out) (i32.shl (i32.and (local.get $d) (i32.const -4)) (i32.const 2))))
    (block $done4
      (loop $four
        (br_if $done4 (i32.ge_u (local.get $out) (local.get $end)))
        (v128.store (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.div (v128.load (local.get $sum)) (local.get $ns)))
          (f32x4.demote_f64x2_zero (f64x2.div (v128.load offset=16 (local.get $sum)) (local.get $ns)))))
        (local.set $sum (i32.add (local.get $sum) (i32.const 32)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $four)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $d) (i32.const 3)) (i32.const 2))))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (f32.demote_f64 (f64.div (f64.load (local.get $sum)) (local.get $n))))
        (local.set $sum (i32.add (local.get $sum) (i32.const 8)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $one))))

  ;; QSGD's sign bits: bit j of the bytes at $out is the float32 sign bit of value j (set for
  ;; negative values and −0), eight to a byte, least significant first. i32x4.bitmask takes the
  ;; four lanes' top bits at once; the last byte's unused bits are 0.
  (func $sign_bits (export "sign_bits") (param $at i32) (param $n i32) (param $out i32)
    (local $end i32) (local $byte i32) (local $j i32)
    (local.set $end (i32.add (local.get $out) (i32.shr_u (local.get $n) (i32.const 3))))
    (block $done8
      (loop $eight
        (br_if $done8 (i32.ge_u (local.get $out) (local.get $end)))
        (i32.store8 (local.get $out) (i32.or
          (i32x4.bitmask (v128.load (local.get $at)))
          (i32.shl (i32x4.bitmask (v128.load offset=16 (local.get $at))) (i32.const 4))))
        (local.set $at (i32.add (local.get $at) (i32.const 32)))
        (local.set $out (i32.add (local.get $out) (i32.const 1)))
        (br $eight)))
    (local.set $n (i32.and (local.get $n) (i32.const 7)))
    (if (local.get $n)
      (then
        (block $done1
          (loop $one
            (br_if $done1 (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $byte (i32.or (local.get $byte)
              (i32.shl (i32.shr_u (i32.load (local.get $at)) (i32.const 31)) (local.get $j))))
            (local.set $at (i32.add (local.get $at) (i32.const 4)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $one)))
        (i32.store8 (local.get $out) (local.get $byte)))))

  ;; Packs $n u16 levels from $at into `width`-bit fields from $out, least significant bit first
  ;; (the code's level format; width ≤ 16, so the accumulator holds at most 23 bits).
  ;; Widths 1, 2, 4 and 8 pack sixteen levels a turn with SIMD (16 levels fill whole bytes);
  ;; widths 3, 5, 6 and 7 eight levels a turn, into a 64-bit word stored whole: its bytes past
  ;; the group's `width` are zeros that the next group overwrites, so 8 bytes after the packed
  ;; levels may be written (the callers leave them free). The rest one at a time.
  (func $pack_levels (export "pack_levels") (param $at i32) (param $n i32) (param $width i32) (param $out i32)
    (local $end i32) (local $acc i32) (local $filled i32) (local $vend i32) (local $v v128)
    (local $word i64) (local $shift i64)
    (local.set $end (i32.add (local.get $at) (i32.shl (local.get $n) (i32.const 1))))
    (local.set $vend (i32.add (local.get $at)
      (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 1))))
    (if (i32.and (i32.le_u (local.get $width) (i32.const 8))
          (i32.eqz (i32.and (local.get $width) (i32.sub (local.get $width) (i32.const 1)))))
      (then
        (block $done16
          (loop $sixteen
            (br_if $done16 (i32.ge_u (local.get $at) (local.get $vend)))
            ;; The sixteen levels as bytes (each fits its width, so narrowing keeps it).
            (local.set $v (i8x16.narrow_i16x8_u
              (v128.load (local.get $at)) (v128.load offset=16 (local.get $at))))
            (if (i32.eq (local.get $width) (i32.const 8))
              (then
                (v128.store (local.get $out) (local.get $v))))
            (if (i32.eq (local.get $width) (i32.const 4))
              (then
                ;; Byte pairs (l, h) in 16-bit lanes become l | h << 4.
                (local.set $v (v128.and (v128.or (local.get $v)
                  (i16x8.shr_u (local.get $v) (i32.const 4))) (v128.const i16x8 255 255 255 255 255 255 255 255)))
                (i64.store (local.get $out)
                  (i64x2.extract_lane 0 (i8x16.narrow_i16x8_u (local.get $v) (local.get $v))))))
            (if (i32.eq (local.get $width) (i32.const 2))
              (then
                ;; Pairs of 2-bit levels into 4 bits per 16-bit lane, then pairs of those into
                ;; a byte per 32-bit lane.
                (local.set $v (v128.and (v128.or (local.get $v)
                  (i16x8.shr_u (local.get $v) (i32.const 6))) (v128.const i16x8 15 15 15 15 15 15 15 15)))
                (local.set $v (v128.and (v128.or (local.get $v)
                  (i32x4.shr_u (local.get $v) (i32.const 12))) (v128.const i32x4 255 255 255 255)))
                (local.set $v (i16x8.narrow_i32x4_u (local.get $v) (local.get $v)))
                (i32.store (local.get $out)
                  (i32x4.extract_lane 0 (i8x16.narrow_i16x8_u (local.get $v) (local.get $v))))))
            (if (i32.eq (local.get $width) (i32.const 1))
              (then
                (i32.store16 (local.get $out)
                  (i8x16.bitmask (i8x16.shl (local.get $v) (i32.const 7))))))
            (local.set $at (i32.add (local.get $at) (i32.const 32)))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $width) (i32.const 1))))
            (br $sixteen))))
      (else
        (if (i32.lt_u (local.get $width) (i32.const 8))
          (then
            (local.set $shift (i64.extend_i32_u (local.get $width)))
            (local.set $vend (i32.add (local.get $at)
              (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 1))))
            (block $done8
              (loop $eight
                (br_if $done8 (i32.ge_u (local.get $at) (local.get $vend)))
                ;; level k at bits k·width: ((l7 << w | l6) << w | …) << w | l0.
                (i64.store (local.get $out) (i64.or (i64.shl (i64.or (i64.shl (i64.or (i64.shl (i64.or (i64.shl (i64.or (i64.shl (i64.or (i64.shl (i64.or (i64.shl (i64.extend_i32_u (i32.load16_u offset=14 (local.get $at)))
                (local.get $shift)) (i64.extend_i32_u (i32.load16_u offset=12 (local.get $at))))
                (local.get $shift)) (i64.extend_i32_u (i32.load16_u offset=10 (local.get $at))))
                (local.get $shift)) (i64.extend_i32_u (i32.load16_u offset=8 (local.get $at))))
                (local.get $shift)) (i64.extend_i32_u (i32.load16_u offset=6 (local.get $at))))
                (local.get $shift)) (i64.extend_i32_u (i32.load16_u offset=4 (local.get $at))))
                (local.get $shift)) (i64.extend_i32_u (i32.load16_u offset=2 (local.get $at))))
                (local.get $shift)) (i64.extend_i32_u (i32.load16_u offset=0 (local.get $at)))))
                (local.set $at (i32.add (local.get $at) (i32.const 16)))
                (local.set $out (i32.add (local.get $out) (local.get $width)))
                (br $eight)))))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $acc (i32.or (local.get $acc)
          (i32.shl (i32.load16_u (local.get $at)) (local.get $filled))))
        (local.set $filled (i32.add (local.get $filled) (local.get $width)))
        (block $flushed
          (loop $flush
            (br_if $flushed (i32.lt_u (local.get $filled) (i32.const 8)))
            (i32.store8 (local.get $out) (local.get $acc))
            (local.set $out (i32.add (local.get $out) (i32.const 1)))
            (local.set $acc (i32.shr_u (local.get $acc) (i32.const 8)))
            (local.set $filled (i32.sub (local.get $filled) (i32.const 8)))
            (br $flush)))
        (local.set $at (i32.add (local.get $at) (i32.const 2)))
        (br $next)))
    (if (local.get $filled) (then (i32.store8 (local.get $out) (local.get $acc)))))

  ;; The count sketch's update over one block of n coordinates (count_sketch_kernels.ts): for each
  ;; row r < rows and coordinate i < n in turn, table[r·cols + h] += ±values[i], where the block's
  ;; slots hold, row after row (n per row), 16-bit slots: the bucket h in the low 15 bits, the
  ;; sign in bit 15. The sign is applied by flipping the value's sign bit (the bits of −v, as
  ;; JavaScript's negation gives them), and every counter adds its coordinates in index order, one
  ;; float32 addition each (f32.add is the float32 sum a JavaScript float64 sum stored into a
  ;; Float32Array rounds to), so the table gets the bits of the JavaScript loop. Four coordinates
  ;; a vector: sign-extended slots give the counters' byte addresses and the signed values in
  ;; four lanes; the lanes are then added one after another, so two lanes of one vector that meet
  ;; in one counter add in order (the addresses come out two at a time, as 64-bit lanes, which
  ;; measured a few percent faster than four 32-bit extractions). Sixteen coordinates a turn,
  ;; then one at a time.
  (func (export "count_sketch_add") (param $slots i32) (param $values i32) (param $n i32)
    (param $table i32) (param $cols i32) (param $rows i32)
    (local $r i32) (local $row v128) (local $at_value i32) (local $vend i32) (local $end i32)
    (local $slot v128) (local $offsets v128) (local $signed v128) (local $at i32) (local $s i32)
    (local $pair i64)
    (local.set $end (i32.add (local.get $values) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $values)
      (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    (block $rows_done
      (loop $next_row
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32x4.splat (i32.add (local.get $table)
          (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2)))))
        (local.set $at_value (local.get $values))
        (block $done16
          (loop $sixteen
            (br_if $done16 (i32.ge_u (local.get $at_value) (local.get $vend)))
            (local.set $slot (v128.load16x4_s offset=0 (local.get $slots)))
            (local.set $offsets (i32x4.add (local.get $row)
              (i32x4.shl (v128.and (local.get $slot) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff))
                (i32.const 2))))
            (local.set $signed (v128.xor (v128.load offset=0 (local.get $at_value))
              (v128.and (local.get $slot)
                (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))
            (local.set $pair (i64x2.extract_lane 0 (local.get $offsets)))
            (local.set $at (i32.wrap_i64 (local.get $pair)))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 0 (local.get $signed))))
            (local.set $at (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 1 (local.get $signed))))
            (local.set $pair (i64x2.extract_lane 1 (local.get $offsets)))
            (local.set $at (i32.wrap_i64 (local.get $pair)))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 2 (local.get $signed))))
            (local.set $at (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 3 (local.get $signed))))
            (local.set $slot (v128.load16x4_s offset=8 (local.get $slots)))
            (local.set $offsets (i32x4.add (local.get $row)
              (i32x4.shl (v128.and (local.get $slot) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff))
                (i32.const 2))))
            (local.set $signed (v128.xor (v128.load offset=16 (local.get $at_value))
              (v128.and (local.get $slot)
                (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))
            (local.set $pair (i64x2.extract_lane 0 (local.get $offsets)))
            (local.set $at (i32.wrap_i64 (local.get $pair)))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 0 (local.get $signed))))
            (local.set $at (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 1 (local.get $signed))))
            (local.set $pair (i64x2.extract_lane 1 (local.get $offsets)))
            (local.set $at (i32.wrap_i64 (local.get $pair)))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 2 (local.get $signed))))
            (local.set $at (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 3 (local.get $signed))))
            (local.set $slot (v128.load16x4_s offset=16 (local.get $slots)))
            (local.set $offsets (i32x4.add (local.get $row)
              (i32x4.shl (v128.and (local.get $slot) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff))
                (i32.const 2))))
            (local.set $signed (v128.xor (v128.load offset=32 (local.get $at_value))
              (v128.and (local.get $slot)
                (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))
            (local.set $pair (i64x2.extract_lane 0 (local.get $offsets)))
            (local.set $at (i32.wrap_i64 (local.get $pair)))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 0 (local.get $signed))))
            (local.set $at (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 1 (local.get $signed))))
            (local.set $pair (i64x2.extract_lane 1 (local.get $offsets)))
            (local.set $at (i32.wrap_i64 (local.get $pair)))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 2 (local.get $signed))))
            (local.set $at (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 3 (local.get $signed))))
            (local.set $slot (v128.load16x4_s offset=24 (local.get $slots)))
            (local.set $offsets (i32x4.add (local.get $row)
              (i32x4.shl (v128.and (local.get $slot) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff))
                (i32.const 2))))
            (local.set $signed (v128.xor (v128.load offset=48 (local.get $at_value))
              (v128.and (local.get $slot)
                (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))
            (local.set $pair (i64x2.extract_lane 0 (local.get $offsets)))
            (local.set $at (i32.wrap_i64 (local.get $pair)))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 0 (local.get $signed))))
            (local.set $at (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 1 (local.get $signed))))
            (local.set $pair (i64x2.extract_lane 1 (local.get $offsets)))
            (local.set $at (i32.wrap_i64 (local.get $pair)))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 2 (local.get $signed))))
            (local.set $at (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32x4.extract_lane 3 (local.get $signed))))
            (local.set $slots (i32.add (local.get $slots) (i32.const 32)))
            (local.set $at_value (i32.add (local.get $at_value) (i32.const 64)))
            (br $sixteen)))
        (block $done
          (loop $one
            (br_if $done (i32.ge_u (local.get $at_value) (local.get $end)))
            (local.set $s (i32.load16_u (local.get $slots)))
            (local.set $at (i32.add (i32x4.extract_lane 0 (local.get $row))
              (i32.shl (i32.and (local.get $s) (i32.const 0x7fff)) (i32.const 2))))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at)) (f32.reinterpret_i32 (i32.xor
                (i32.load (local.get $at_value))
                (i32.shl (i32.and (local.get $s) (i32.const 0x8000)) (i32.const 16))))))
            (local.set $slots (i32.add (local.get $slots) (i32.const 2)))
            (local.set $at_value (i32.add (local.get $at_value) (i32.const 4)))
            (br $one)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $next_row))))

  ;; One row's signed counters of m coordinates, into `to`: to[i] = ±table_row[bucket(slot i)]
  ;; (the sign bit flipped where the slot's is set: the bits of −1 · counter). Four a vector: the
  ;; addresses as in count_sketch_add, the counters loaded one by one into the lanes.
  (func $count_sketch_gather (param $slots i32) (param $m i32) (param $row i32) (param $to i32)
    (local $end i32) (local $vend i32) (local $slot v128) (local $offsets v128) (local $pair i64)
    (local $gathered v128) (local $s i32)
    (local.set $end (i32.add (local.get $to) (i32.shl (local.get $m) (i32.const 2))))
    (local.set $vend (i32.add (local.get $to)
      (i32.shl (i32.and (local.get $m) (i32.const -4)) (i32.const 2))))
    (block $done4
      (loop $four
        (br_if $done4 (i32.ge_u (local.get $to) (local.get $vend)))
        (local.set $slot (v128.load16x4_s (local.get $slots)))
        (local.set $offsets (i32x4.add (i32x4.splat (local.get $row))
          (i32x4.shl (v128.and (local.get $slot) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff))
            (i32.const 2))))
        (local.set $pair (i64x2.extract_lane 0 (local.get $offsets)))
        (local.set $gathered (f32x4.splat (f32.load (i32.wrap_i64 (local.get $pair)))))
        (local.set $gathered (f32x4.replace_lane 1 (local.get $gathered)
          (f32.load (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))))
        (local.set $pair (i64x2.extract_lane 1 (local.get $offsets)))
        (local.set $gathered (f32x4.replace_lane 2 (local.get $gathered)
          (f32.load (i32.wrap_i64 (local.get $pair)))))
        (local.set $gathered (f32x4.replace_lane 3 (local.get $gathered)
          (f32.load (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))))
        (v128.store (local.get $to) (v128.xor (local.get $gathered)
          (v128.and (local.get $slot)
            (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))
        (local.set $slots (i32.add (local.get $slots) (i32.const 8)))
        (local.set $to (i32.add (local.get $to) (i32.const 16)))
        (br $four)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $to) (local.get $end)))
        (local.set $s (i32.load16_u (local.get $slots)))
        (i32.store (local.get $to) (i32.xor
          (i32.load (i32.add (local.get $row)
            (i32.shl (i32.and (local.get $s) (i32.const 0x7fff)) (i32.const 2))))
          (i32.shl (i32.and (local.get $s) (i32.const 0x8000)) (i32.const 16))))
        (local.set $slots (i32.add (local.get $slots) (i32.const 2)))
        (local.set $to (i32.add (local.get $to) (i32.const 4)))
        (br $one))))

  ;; The median of three and of five float64 pairs, lane by lane, by the branchless network of
  ;; sketched_sgd.ts operation for operation (median3, median5): with lower(a, b) =
  ;; 0.5·(a + b − |a − b|) and upper(a, b) = 0.5·(a + b + |a − b|), written out here (calls are not
  ;; inlined, and one per minimum cost a sixth of the estimates' time), the sum and the difference
  ;; of a pair computed once for both.

  ;; median3(a, b, c) = upper(lower(a, b), lower(upper(a, b), c)).
  (func $median3 (param $a v128) (param $b v128) (param $c v128) (result v128)
    (local $sum v128) (local $gap v128) (local $low v128) (local $high v128)
    ;; lower(a, b), upper(a, b)
    (local.set $sum (f64x2.add (local.get $a) (local.get $b)))
    (local.set $gap (f64x2.abs (f64x2.sub (local.get $a) (local.get $b))))
    (local.set $low (f64x2.mul (v128.const f64x2 0.5 0.5)
      (f64x2.sub (local.get $sum) (local.get $gap))))
    (local.set $high (f64x2.mul (v128.const f64x2 0.5 0.5)
      (f64x2.add (local.get $sum) (local.get $gap))))
    ;; c ← lower(upper(a, b), c)
    (local.set $sum (f64x2.add (local.get $high) (local.get $c)))
    (local.set $gap (f64x2.abs (f64x2.sub (local.get $high) (local.get $c))))
    (local.set $c (f64x2.mul (v128.const f64x2 0.5 0.5)
      (f64x2.sub (local.get $sum) (local.get $gap))))
    ;; upper(lower(a, b), c)
    (local.set $sum (f64x2.add (local.get $low) (local.get $c)))
    (local.set $gap (f64x2.abs (f64x2.sub (local.get $low) (local.get $c))))
    (f64x2.mul (v128.const f64x2 0.5 0.5) (f64x2.add (local.get $sum) (local.get $gap))))

  ;; median5(a, b, c, d, e) = median3(upper(lower(a, b), lower(c, d)),
  ;; lower(upper(a, b), upper(c, d)), e): of the two pairs, the larger minimum and the smaller
  ;; maximum bracket the median with the fifth value.
  (func $median5 (param $a v128) (param $b v128) (param $c v128) (param $d v128) (param $e v128)
    (result v128)
    (local $sum v128) (local $gap v128) (local $low_ab v128) (local $high_ab v128)
    (local $low_cd v128) (local $high_cd v128)
    (local.set $sum (f64x2.add (local.get $a) (local.get $b)))
    (local.set $gap (f64x2.abs (f64x2.sub (local.get $a) (local.get $b))))
    (local.set $low_ab (f64x2.mul (v128.const f64x2 0.5 0.5)
      (f64x2.sub (local.get $sum) (local.get $gap))))
    (local.set $high_ab (f64x2.mul (v128.const f64x2 0.5 0.5)
      (f64x2.add (local.get $sum) (local.get $gap))))
    (local.set $sum (f64x2.add (local.get $c) (local.get $d)))
    (local.set $gap (f64x2.abs (f64x2.sub (local.get $c) (local.get $d))))
    (local.set $low_cd (f64x2.mul (v128.const f64x2 0.5 0.5)
      (f64x2.sub (local.get $sum) (local.get $gap))))
    (local.set $high_cd (f64x2.mul (v128.const f64x2 0.5 0.5)
      (f64x2.add (local.get $sum) (local.get $gap))))
    ;; a ← upper(lower(a, b), lower(c, d)), b ← lower(upper(a, b), upper(c, d))
    (local.set $sum (f64x2.add (local.get $low_ab) (local.get $low_cd)))
    (local.set $gap (f64x2.abs (f64x2.sub (local.get $low_ab) (local.get $low_cd))))
    (local.set $a (f64x2.mul (v128.const f64x2 0.5 0.5)
      (f64x2.add (local.get $sum) (local.get $gap))))
    (local.set $sum (f64x2.add (local.get $high_ab) (local.get $high_cd)))
    (local.set $gap (f64x2.abs (f64x2.sub (local.get $high_ab) (local.get $high_cd))))
    (local.set $b (f64x2.mul (v128.const f64x2 0.5 0.5)
      (f64x2.sub (local.get $sum) (local.get $gap))))
    (call $median3 (local.get $a) (local.get $b) (local.get $e)))

  ;; The count sketch's estimates over one block of n coordinates (slots as for
  ;; count_sketch_add), 3 or 5 rows: out[i] = the median over rows of ±table[r·cols + h]. A run of
  ;; at most 512 coordinates at a time is gathered row by row into `scratch` (2064 bytes a row),
  ;; then four medians a turn are taken in two float64 pairs (lanes 0, 1 and lanes 2, 3 of each
  ;; row, promoted) by the network of sketched_sgd.ts and rounded to float32 as a Float32Array
  ;; store does. `out` must have room for n rounded up to four (the lanes past n are garbage).
  (func (export "count_sketch_medians") (param $slots i32) (param $n i32) (param $table i32)
    (param $cols i32) (param $rows i32) (param $scratch i32) (param $out i32)
    (local $sub i32) (local $m i32) (local $r i32) (local $p i32) (local $pend i32) (local $q i32)
    (local $low v128) (local $high v128)
    (block $all
      (loop $runs
        (br_if $all (i32.ge_u (local.get $sub) (local.get $n)))
        (local.set $m (i32.sub (local.get $n) (local.get $sub)))
        (if (i32.gt_u (local.get $m) (i32.const 512)) (then (local.set $m (i32.const 512))))
        (local.set $r (i32.const 0))
        (block $gathered
          (loop $row
            (br_if $gathered (i32.ge_u (local.get $r) (local.get $rows)))
            (call $count_sketch_gather
              (i32.add (local.get $slots)
                (i32.shl (i32.add (i32.mul (local.get $r) (local.get $n)) (local.get $sub))
                  (i32.const 1)))
              (local.get $m)
              (i32.add (local.get $table)
                (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2)))
              (i32.add (local.get $scratch) (i32.mul (local.get $r) (i32.const 2064))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $row)))
        (local.set $p (local.get $scratch))
        (local.set $pend (i32.add (local.get $scratch)
          (i32.shl (i32.and (i32.add (local.get $m) (i32.const 3)) (i32.const -4)) (i32.const 2))))
        (local.set $q (i32.add (local.get $out) (i32.shl (local.get $sub) (i32.const 2))))
        (block $done
          (loop $four
            (br_if $done (i32.ge_u (local.get $p) (local.get $pend)))
            (if (i32.eq (local.get $rows) (i32.const 5))
              (then
                (local.set $low (call $median5
                  (f64x2.promote_low_f32x4 (v128.load offset=0 (local.get $p)))
                  (f64x2.promote_low_f32x4 (v128.load offset=2064 (local.get $p)))
                  (f64x2.promote_low_f32x4 (v128.load offset=4128 (local.get $p)))
                  (f64x2.promote_low_f32x4 (v128.load offset=6192 (local.get $p)))
                  (f64x2.promote_low_f32x4 (v128.load offset=8256 (local.get $p)))))
                (local.set $high (call $median5
                  (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p)))
                  (f64x2.promote_low_f32x4 (v128.load64_zero offset=2072 (local.get $p)))
                  (f64x2.promote_low_f32x4 (v128.load64_zero offset=4136 (local.get $p)))
                  (f64x2.promote_low_f32x4 (v128.load64_zero offset=6200 (local.get $p)))
                  (f64x2.promote_low_f32x4 (v128.load64_zero offset=8264 (local.get $p))))))
              (else
                (local.set $low (call $median3
                  (f64x2.promote_low_f32x4 (v128.load offset=0 (local.get $p)))
                  (f64x2.promote_low_f32x4 (v128.load offset=2064 (local.get $p)))
                  (f64x2.promote_low_f32x4 (v128.load offset=4128 (local.get $p)))))
                (local.set $high (call $median3
                  (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p)))
                  (f64x2.promote_low_f32x4 (v128.load64_zero offset=2072 (local.get $p)))
                  (f64x2.promote_low_f32x4 (v128.load64_zero offset=4136 (local.get $p)))))))
            (v128.store (local.get $q) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (local.get $low))
              (f32x4.demote_f64x2_zero (local.get $high))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (br $four)))
        (local.set $sub (i32.add (local.get $sub) (i32.const 512)))
        (br $runs))))
)
