//! Metrics of sequence classifiers and regressors: accuracy, macro-F1, Matthews
//! correlation (the multi-class form of Gorodkin 2004, as scikit-learn computes it) and
//! AUROC (binary: of the positive class's score; more classes: the mean of one-vs-rest
//! AUROCs); for regression the mean squared error, Pearson's r and R².

use serde::Serialize;

/// Classification metrics of one prediction set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassificationMetrics {
    /// Share of rows whose most probable class is the true one.
    pub accuracy: f64,
    /// Unweighted mean over classes of F1.
    pub macro_f1: f64,
    /// Matthews correlation coefficient.
    pub mcc: f64,
    /// Area under the ROC curve (one-vs-rest mean for more than two classes).
    pub auroc: f64,
}

/// Regression metrics of one prediction set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RegressionMetrics {
    /// Mean squared error.
    pub mse: f64,
    /// Pearson correlation of predictions and targets.
    pub pearson: f64,
    /// Coefficient of determination, 1 - SSE / SST.
    pub r2: f64,
}

/// Metrics of class probabilities `probs[i][c]` against true classes `truth[i]`.
/// Panics if a row has a different number of classes than the first or a true class
/// out of range (callers build both from one label vocabulary).
pub fn classification_metrics(probs: &[Vec<f64>], truth: &[usize]) -> ClassificationMetrics {
    assert_eq!(probs.len(), truth.len(), "one prediction per row");
    let classes = probs.first().map_or(0, Vec::len);
    let predicted: Vec<usize> = probs.iter().map(|row| argmax(row)).collect();
    let mut confusion = vec![vec![0f64; classes]; classes];
    for (&t, &p) in truth.iter().zip(&predicted) {
        confusion[t][p] += 1.0;
    }
    let total = truth.len() as f64;
    let correct: f64 = (0..classes).map(|c| confusion[c][c]).sum();
    let true_count: Vec<f64> = confusion.iter().map(|row| row.iter().sum()).collect();
    let predicted_count: Vec<f64> = (0..classes)
        .map(|c| confusion.iter().map(|row| row[c]).sum())
        .collect();
    let f1s: Vec<f64> = (0..classes)
        .map(|c| {
            let denominator = true_count[c] + predicted_count[c];
            if denominator == 0.0 {
                0.0
            } else {
                2.0 * confusion[c][c] / denominator
            }
        })
        .collect();
    let covariance_tp = correct * total
        - (0..classes)
            .map(|c| true_count[c] * predicted_count[c])
            .sum::<f64>();
    let spread = |counts: &[f64]| total * total - counts.iter().map(|n| n * n).sum::<f64>();
    let denominator = (spread(&predicted_count) * spread(&true_count)).sqrt();
    let mcc = if denominator == 0.0 {
        0.0
    } else {
        covariance_tp / denominator
    };
    let auroc = if classes == 2 {
        let scores: Vec<f64> = probs.iter().map(|row| row[1]).collect();
        let positive: Vec<bool> = truth.iter().map(|&t| t == 1).collect();
        binary_auroc(&scores, &positive)
    } else {
        let per_class: Vec<f64> = (0..classes)
            .map(|c| {
                let scores: Vec<f64> = probs.iter().map(|row| row[c]).collect();
                let positive: Vec<bool> = truth.iter().map(|&t| t == c).collect();
                binary_auroc(&scores, &positive)
            })
            .filter(|auc| !auc.is_nan())
            .collect();
        per_class.iter().sum::<f64>() / per_class.len() as f64
    };
    ClassificationMetrics {
        accuracy: correct / total,
        macro_f1: f1s.iter().sum::<f64>() / classes as f64,
        mcc,
        auroc,
    }
}

/// AUROC of `scores` (higher means positive) against `positive`: the probability that
/// a random positive outscores a random negative, ties counting half (the Mann-Whitney
/// statistic from mid-ranks). NaN when either class is absent.
pub fn binary_auroc(scores: &[f64], positive: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_positive = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks start..end (0-based) tie: each gets the mean 1-based rank.
        let mid_rank = (start + end + 1) as f64 / 2.0;
        rank_sum_positive +=
            mid_rank * order[start..end].iter().filter(|&&i| positive[i]).count() as f64;
        start = end;
    }
    let positives = positive.iter().filter(|&&p| p).count() as f64;
    let negatives = positive.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return f64::NAN;
    }
    (rank_sum_positive - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

/// Metrics of predictions against targets.
pub fn regression_metrics(predictions: &[f64], targets: &[f64]) -> RegressionMetrics {
    assert_eq!(predictions.len(), targets.len(), "one prediction per row");
    let n = targets.len() as f64;
    let mean = |values: &[f64]| values.iter().sum::<f64>() / n;
    let (mean_p, mean_t) = (mean(predictions), mean(targets));
    let (mut sse, mut sst, mut cov, mut var_p) = (0.0, 0.0, 0.0, 0.0);
    for (&p, &t) in predictions.iter().zip(targets) {
        sse += (p - t).powi(2);
        sst += (t - mean_t).powi(2);
        cov += (p - mean_p) * (t - mean_t);
        var_p += (p - mean_p).powi(2);
    }
    RegressionMetrics {
        mse: sse / n,
        pearson: cov / (var_p * sst).sqrt(),
        r2: 1.0 - sse / sst,
    }
}

fn argmax(row: &[f64]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot_probs(predicted: &[usize], classes: usize) -> Vec<Vec<f64>> {
        predicted
            .iter()
            .map(|&p| (0..classes).map(|c| f64::from(c == p)).collect())
            .collect()
    }

    #[test]
    fn binary_metrics_by_hand() {
        // truth 1 1 1 0 0, predicted 1 1 0 1 0: TP 2, FN 1, FP 1, TN 1.
        let probs: Vec<Vec<f64>> = [0.9, 0.8, 0.3, 0.6, 0.1]
            .iter()
            .map(|&p| vec![1.0 - p, p])
            .collect();
        let m = classification_metrics(&probs, &[1, 1, 1, 0, 0]);
        assert!((m.accuracy - 0.6).abs() < 1e-12);
        // MCC = (2*1 - 1*1) / sqrt(3*2*3*2) = 1/6.
        assert!((m.mcc - 1.0 / 6.0).abs() < 1e-12);
        // F1(1) = 4/6, F1(0) = 2/4.
        assert!((m.macro_f1 - (4.0 / 6.0 + 0.5) / 2.0).abs() < 1e-12);
        // Pairs (pos, neg): 0.9>0.6, 0.9>0.1, 0.8>0.6, 0.8>0.1, 0.3<0.6, 0.3>0.1: 5/6.
        assert!((m.auroc - 5.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn multiclass_mcc_matches_scikit_learn() {
        // Confusion [[1,1,0],[0,2,0],[1,0,2]]: 5 correct of 7, true counts 2 2 3,
        // predicted 2 3 2: (5*7 - (4+6+6)) / sqrt((49-17)(49-17)) = 19/32; scikit-learn
        // 1.x matthews_corrcoef gives 0.59375 too.
        let truth = [0, 0, 1, 1, 2, 2, 2];
        let predicted = [0, 1, 1, 1, 2, 0, 2];
        let m = classification_metrics(&one_hot_probs(&predicted, 3), &truth);
        assert!((m.mcc - 19.0 / 32.0).abs() < 1e-12, "{}", m.mcc);
        assert!((m.accuracy - 5.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn auroc_counts_ties_as_half_and_is_nan_without_negatives() {
        // Pairs (0.7|0.2) win, (0.7|0.7) tie, (0.1|0.2) and (0.1|0.7) lose: 1.5/4, as
        // scikit-learn's roc_auc_score.
        assert!((binary_auroc(&[0.5, 0.5], &[true, false]) - 0.5).abs() < 1e-12);
        assert!(
            (binary_auroc(&[0.2, 0.7, 0.7, 0.1], &[false, true, false, true]) - 0.375).abs()
                < 1e-12
        );
        assert!(binary_auroc(&[0.1, 0.2], &[true, true]).is_nan());
    }

    #[test]
    fn regression_by_hand() {
        let m = regression_metrics(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]);
        assert!((m.mse - 1.0 / 3.0).abs() < 1e-12);
        // targets mean 7/3, SST = 16/9 + 1/9 + 25/9 = 42/9; R² = 1 - 1/(42/9) = 1 - 9/42.
        assert!((m.r2 - (1.0 - 9.0 / 42.0)).abs() < 1e-12);
        // cov = (-1)(-4/3) + 0 + (1)(5/3) = 3; var_p = 2; r = 3 / sqrt(2 * 42/9).
        assert!((m.pearson - 3.0 / (2.0f64 * 42.0 / 9.0).sqrt()).abs() < 1e-12);
    }
}
