namespace System
{
    /// <summary>Base of every array; the element count follows the MethodTable pointer.</summary>
    public abstract class Array
    {
        private int _numComponents;

        public int Length => _numComponents;
    }

    // ilc's type system requires the generic array base.
    internal class Array<T> : Array { }
}
