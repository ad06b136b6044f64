# Draw `make bench`'s measurements: each row's ratio to its same-run baseline.
# gnuplot -e "hmm='build/bench/bench_hmm.dat'; mig='build/bench/bench_migrate.dat'; out='...svg'"
set terminal svg size 900,380 font "DejaVu Sans,11" background rgb "white"
set output out
set multiplot layout 1,2 title "Simulation against its baselines (ratio; 1 = as fast as the baseline)"
set logscale x 2
set grid ytics lc rgb "#dddddd"
set key bottom right box opaque
set ylabel "ratio"
set xlabel "size (MiB)"
set yrange [0:*]
plot hmm using (strcol(1) eq "snapshot" ? real(strcol(2)[1:strlen(strcol(2))-3]) : NaN):($3/$4) \
         with linespoints lw 2 pt 7 title "hmm\\_range\\_fault snapshot / flat loop", \
     hmm using (strcol(1) eq "fault-in" ? real(strcol(2)[1:strlen(strcol(2))-3]) : NaN):($3/$4) \
         with linespoints lw 2 pt 5 title "fault-in / memset", \
     hmm using (strcol(1) eq "dmirror-read" ? real(strcol(2)[1:strlen(strcol(2))-3]) : NaN):($3/$4) \
         with linespoints lw 2 pt 9 title "dmirror READ / memcpy", \
     mig using 1:(($3+$4)/$2) with linespoints lw 2 pt 13 title "migrate there and back / memcpy x2"
set logscale x 10
set key top left box opaque
set xlabel "interval notifiers (against 10)"
plot hmm using (strcol(1) eq "invalidate" ? real(strcol(2)) : NaN):($3/$4) \
         with linespoints lw 2 pt 7 title "one-page invalidation", \
     hmm using (strcol(1) eq "insert" ? real(strcol(2)) : NaN):($3/$4) \
         with linespoints lw 2 pt 5 title "insert + remove", \
     hmm using (strcol(1) eq "dmirror-snap" ? real(strcol(2)) : NaN):($3/$4) \
         with linespoints lw 2 pt 9 title "dmirror SNAPSHOT per page"
unset multiplot
