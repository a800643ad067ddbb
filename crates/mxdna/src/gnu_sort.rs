//! The exact order in which GNU libstdc++'s `std::sort` leaves equal elements, so that
//! our NMS breaks ties among router logits as the reference C++ (built with GCC) does.
//! `std::sort` is not stable, but it is deterministic: introsort (median-of-three
//! pivot moved to the front, unguarded Hoare partition, depth limit `2 floor(log2 n)`
//! then heap sort) down to runs of 16, then one insertion sort. This is that algorithm
//! step for step (bits/stl_algo.h and bits/stl_heap.h), over any slice and a strict
//! "goes before" comparison.

/// Runs of at most this many elements are left to the final insertion sort.
const THRESHOLD: usize = 16;

/// Sorts `items` exactly as libstdc++'s `std::sort(first, last, before)` would.
pub fn gnu_sort<T: Copy, F: Fn(&T, &T) -> bool + Copy>(items: &mut [T], before: F) {
    let n = items.len();
    if n < 2 {
        return;
    }
    let depth_limit = 2 * (usize::BITS - 1 - n.leading_zeros()) as usize;
    introsort_loop(items, depth_limit, before);
    final_insertion_sort(items, before);
}

fn introsort_loop<T: Copy, F: Fn(&T, &T) -> bool + Copy>(
    items: &mut [T],
    mut depth_limit: usize,
    before: F,
) {
    let mut last = items.len();
    while last > THRESHOLD {
        if depth_limit == 0 {
            heap_sort(&mut items[..last], before);
            return;
        }
        depth_limit -= 1;
        let cut = partition_pivot(&mut items[..last], before);
        introsort_loop(&mut items[cut..last], depth_limit, before);
        last = cut;
    }
}

/// `__unguarded_partition_pivot`: the median of (second, middle, last) moved to the
/// front, then an unguarded partition of the rest around it; returns the cut.
fn partition_pivot<T: Copy, F: Fn(&T, &T) -> bool + Copy>(items: &mut [T], before: F) -> usize {
    let last = items.len();
    let mid = last / 2;
    move_median_to_first(items, 1, mid, last - 1, before);
    let (mut first, mut last) = (1, last);
    loop {
        while before(&items[first], &items[0]) {
            first += 1;
        }
        last -= 1;
        while before(&items[0], &items[last]) {
            last -= 1;
        }
        if first >= last {
            return first;
        }
        items.swap(first, last);
        first += 1;
    }
}

fn move_median_to_first<T: Copy, F: Fn(&T, &T) -> bool + Copy>(
    items: &mut [T],
    a: usize,
    b: usize,
    c: usize,
    before: F,
) {
    let less = |x: usize, y: usize| before(&items[x], &items[y]);
    let median = if less(a, b) {
        if less(b, c) {
            b
        } else if less(a, c) {
            c
        } else {
            a
        }
    } else if less(a, c) {
        a
    } else if less(b, c) {
        c
    } else {
        b
    };
    items.swap(0, median);
}

fn final_insertion_sort<T: Copy, F: Fn(&T, &T) -> bool + Copy>(items: &mut [T], before: F) {
    if items.len() > THRESHOLD {
        insertion_sort(&mut items[..THRESHOLD], before);
        for i in THRESHOLD..items.len() {
            unguarded_linear_insert(items, i, before);
        }
    } else {
        insertion_sort(items, before);
    }
}

fn insertion_sort<T: Copy, F: Fn(&T, &T) -> bool + Copy>(items: &mut [T], before: F) {
    for i in 1..items.len() {
        if before(&items[i], &items[0]) {
            let value = items[i];
            items.copy_within(0..i, 1);
            items[0] = value;
        } else {
            unguarded_linear_insert(items, i, before);
        }
    }
}

fn unguarded_linear_insert<T: Copy, F: Fn(&T, &T) -> bool + Copy>(
    items: &mut [T],
    mut last: usize,
    before: F,
) {
    let value = items[last];
    while before(&value, &items[last - 1]) {
        items[last] = items[last - 1];
        last -= 1;
    }
    items[last] = value;
}

/// `std::__partial_sort(first, last, last)`: make a heap, then sort it.
fn heap_sort<T: Copy, F: Fn(&T, &T) -> bool + Copy>(items: &mut [T], before: F) {
    let len = items.len();
    if len >= 2 {
        let mut parent = (len - 2) / 2;
        loop {
            let value = items[parent];
            adjust_heap(items, parent, len, value, before);
            if parent == 0 {
                break;
            }
            parent -= 1;
        }
    }
    let mut last = len;
    while last > 1 {
        last -= 1;
        let value = items[last];
        items[last] = items[0];
        adjust_heap(items, 0, last, value, before);
    }
}

fn adjust_heap<T: Copy, F: Fn(&T, &T) -> bool + Copy>(
    items: &mut [T],
    mut hole: usize,
    len: usize,
    value: T,
    before: F,
) {
    let top = hole;
    let mut child = hole;
    while child < len.saturating_sub(1) / 2 {
        child = 2 * (child + 1);
        if before(&items[child], &items[child - 1]) {
            child -= 1;
        }
        items[hole] = items[child];
        hole = child;
    }
    if len.is_multiple_of(2) && len >= 2 && child == (len - 2) / 2 {
        child = 2 * (child + 1);
        items[hole] = items[child - 1];
        hole = child - 1;
    }
    // __push_heap
    while hole > top {
        let parent = (hole - 1) / 2;
        if !before(&items[parent], &value) {
            break;
        }
        items[hole] = items[parent];
        hole = parent;
    }
    items[hole] = value;
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;

    #[test]
    fn sorts_like_any_sort_when_keys_are_distinct() {
        let mut rng = dnalm_seq::seeded_rng(3);
        for n in [0, 1, 2, 15, 16, 17, 100, 5000] {
            let mut values: Vec<u32> = (0..n as u32).collect();
            for i in (1..values.len()).rev() {
                values.swap(i, rng.random_range(0..=i));
            }
            gnu_sort(&mut values, |a, b| a > b);
            let expected: Vec<u32> = (0..n as u32).rev().collect();
            assert_eq!(values, expected, "n = {n}");
        }
    }

    #[test]
    fn the_heap_sort_fallback_sorts() {
        let mut rng = dnalm_seq::seeded_rng(5);
        let mut values: Vec<u32> = (0..777).map(|_| rng.random_range(0..50)).collect();
        heap_sort(&mut values, |a, b| a < b);
        assert!(values.windows(2).all(|w| w[0] <= w[1]));
    }
}
