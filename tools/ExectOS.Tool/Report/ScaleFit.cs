using System;
using System.Collections.Generic;

namespace ExectOS.Tool.Report;

/// <summary>A piece of a bar: its true size, and the narrowest and widest it may be drawn (in pixels).</summary>
public readonly record struct BarPiece(double Size, double MinWidth, double MaxWidth);

/// <summary>
/// Widths for pieces of a bar drawn to one scale: every piece is its size times one factor, clamped to its own
/// minimum and maximum, and the factor is chosen so the widths fill the bar. A tiny range keeps a visible width,
/// a huge hole is cut to its maximum (drawn with a break); everything else stays to scale.
/// </summary>
public static class ScaleFit
{
    /// <summary>The widths, adding up to <paramref name="width"/> (when the minimums alone do not fit, they are shrunk together).</summary>
    public static double[] Widths(IReadOnlyList<BarPiece> pieces, double width, out double pixelsPerUnit)
    {
        var widths = new double[pieces.Count];
        pixelsPerUnit = 0;
        if (pieces.Count == 0)
        {
            return widths;
        }

        double minimums = 0, maximums = 0;
        foreach (BarPiece piece in pieces)
        {
            minimums += piece.MinWidth;
            maximums += piece.MaxWidth;
        }

        if (minimums >= width || maximums <= width)
        {
            // Nothing can be to scale: every piece at its bound, all shrunk (or stretched) alike.
            bool shrink = minimums >= width;
            double total = shrink ? minimums : maximums;
            for (int i = 0; i < pieces.Count; i++)
            {
                widths[i] = (shrink ? pieces[i].MinWidth : pieces[i].MaxWidth) * width / total;
            }

            return widths;
        }

        // The filled width grows with the factor: bisect on its logarithm (sizes span bytes to terabytes).
        double low = -80, high = 80;
        for (int round = 0; round < 200; round++)
        {
            double middle = (low + high) / 2;
            if (Fill(pieces, Math.Pow(2, middle), null) < width)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        pixelsPerUnit = Math.Pow(2, high);
        double filled = Fill(pieces, pixelsPerUnit, widths);
        // The bisection leaves a rounding error; the largest piece absorbs it.
        int largest = 0;
        for (int i = 1; i < widths.Length; i++)
        {
            largest = widths[i] > widths[largest] ? i : largest;
        }

        widths[largest] += width - filled;
        return widths;
    }

    private static double Fill(IReadOnlyList<BarPiece> pieces, double factor, double[]? widths)
    {
        double sum = 0;
        for (int i = 0; i < pieces.Count; i++)
        {
            double w = Math.Clamp(pieces[i].Size * factor, pieces[i].MinWidth, pieces[i].MaxWidth);
            if (widths is not null)
            {
                widths[i] = w;
            }

            sum += w;
        }

        return sum;
    }
}
