# bench_lib.sh — shell helpers shared by bench/fusion_bench.sh and bench/ab.sh (source it):
#   median < numbers            the median of one number per line
#   ratio_range A B             per-line ratios A/B of two files as "[lo-hi]"
#   ratio_list A B              the per-line ratios A/B of two files, one per line
median() { sort -g | awk '{a[NR] = $1} END {if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
ratio_list() { paste "$1" "$2" | awk '$1 > 0 && $2 > 0 {printf "%.3f\n", $1 / $2}'; }
ratio_range() { ratio_list "$1" "$2" | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {if (NR) printf "[%s-%s]", lo, hi}'; }
